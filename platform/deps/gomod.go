package deps

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// looksLikeGoMod reports whether the first directive of data is "module".
func looksLikeGoMod(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(stripComment(sc.Text()))
		if line == "" {
			continue
		}
		return line == "module" || strings.HasPrefix(line, "module ") || strings.HasPrefix(line, "module\t") || strings.HasPrefix(line, `module"`)
	}
	return false
}

// stripComment drops a // comment that is not inside a quoted string.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '`':
			quote = c
		case c == '/' && i+1 < len(line) && line[i+1] == '/':
			return line[:i]
		}
	}
	return line
}

// tokens splits a go.mod line into words, quoted strings (unquoted), "(", ")" and "=>".
func tokens(line string) ([]string, error) {
	var out []string
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		case c == '"' || c == '`':
			j := i + 1
			for j < len(line) && line[j] != c {
				if c == '"' && line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated quoted string")
			}
			s, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("invalid quoted string %s", line[i:j+1])
			}
			out = append(out, s)
			i = j + 1
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t\r()\"`", rune(line[j])) {
				j++
			}
			out = append(out, line[i:j])
			i = j
		}
	}
	return out, nil
}

// goDirectives are the verbs of go.mod (https://go.dev/ref/mod#go-mod-file-grammar); true where
// a parenthesised block is allowed.
var goDirectives = map[string]bool{"module": false, "go": false, "toolchain": false, "godebug": true,
	"require": true, "exclude": true, "replace": true, "retract": true, "tool": true, "ignore": true}

type requirement struct {
	path, version string
}

// parseGoMod reads the module path and the requirements of a go.mod. Requirements replaced by a
// local directory are the company's own modules and left out.
func parseGoMod(data []byte) (Manifest, error) {
	m := Manifest{Format: FormatGoMod}
	var reqs []requirement
	local := map[string]bool{}
	block, blockLine := "", 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		toks, err := tokens(stripComment(sc.Text()))
		if err != nil {
			return m, fmt.Errorf("go.mod line %d: %v", n, err)
		}
		if len(toks) == 0 {
			continue
		}
		verb, args := block, toks
		if block == "" {
			verb, args = toks[0], toks[1:]
			blockOK, known := goDirectives[verb]
			if !known {
				return m, fmt.Errorf("go.mod line %d: unknown directive %q", n, verb)
			}
			if len(args) == 1 && args[0] == "(" {
				if !blockOK {
					return m, fmt.Errorf("go.mod line %d: %s does not take a ( block", n, verb)
				}
				block, blockLine = verb, n
				continue
			}
		} else if len(toks) == 1 && toks[0] == ")" {
			block = ""
			continue
		}
		for _, t := range args {
			if t == "(" || t == ")" {
				return m, fmt.Errorf("go.mod line %d: unexpected %q", n, t)
			}
		}
		switch verb {
		case "module":
			if len(args) != 1 {
				return m, fmt.Errorf("go.mod line %d: module needs one module path", n)
			}
			m.Service = args[0]
		case "require":
			if len(args) != 2 {
				return m, fmt.Errorf("go.mod line %d: require needs a module path and a version, got %q", n, strings.Join(args, " "))
			}
			if !strings.HasPrefix(args[1], "v") {
				return m, fmt.Errorf("go.mod line %d: version %q of %s is not a semantic version such as v1.2.3", n, args[1], args[0])
			}
			reqs = append(reqs, requirement{args[0], args[1]})
		case "replace":
			arrow := -1
			for i, t := range args {
				if t == "=>" {
					arrow = i
				}
			}
			if arrow < 1 || arrow > 2 || len(args)-arrow-1 < 1 || len(args)-arrow-1 > 2 {
				return m, fmt.Errorf("go.mod line %d: replace must be: module [version] => module version, or => ./dir", n)
			}
			if to := args[arrow+1]; strings.HasPrefix(to, "./") || strings.HasPrefix(to, "../") || strings.HasPrefix(to, "/") || to == "." || to == ".." {
				local[args[0]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return m, fmt.Errorf("go.mod: %v", err)
	}
	if block != "" {
		return m, fmt.Errorf("go.mod line %d: %s ( block is not closed with )", blockLine, block)
	}
	for _, r := range reqs {
		if local[r.path] {
			continue
		}
		m.Packages = append(m.Packages, Package{
			Ecosystem: "golang", Name: r.path, Version: r.version,
			PURL: "pkg:golang/" + r.path + "@" + r.version, Repo: GoModuleRepo(r.path),
		})
	}
	return m, nil
}
