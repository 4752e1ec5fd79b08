package deps

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/modfile"
)

// looksLikeGoMod reports whether the first directive of data is "module".
func looksLikeGoMod(data []byte) bool {
	for line := range bytes.Lines(data) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "//") {
			continue
		}
		rest, ok := strings.CutPrefix(s, "module")
		return ok && (rest == "" || strings.ContainsAny(rest[:1], " \t\"`/("))
	}
	return false
}

// parseGoMod reads the module path and the requirements of a go.mod with the Go team's own
// parser, which knows every directive the go command does. Requirements replaced by a local
// directory are the company's own modules and left out.
func parseGoMod(data []byte) (Manifest, error) {
	f, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return Manifest{}, goModError(err)
	}
	m := Manifest{Format: FormatGoMod}
	if f.Module != nil {
		m.Service = f.Module.Mod.Path
	}
	local := map[string]bool{}
	for _, r := range f.Replace {
		if r.New.Version == "" { // a directory, not a module
			local[r.Old.Path] = true
		}
	}
	for _, r := range f.Require {
		path, version := r.Mod.Path, r.Mod.Version
		if local[path] {
			continue
		}
		m.Packages = append(m.Packages, Package{
			Ecosystem: "golang", Name: path, Version: version,
			PURL: goPURL(path, version), Repo: GoModuleRepo(path),
		})
	}
	return m, nil
}

// goModError words the parser's errors as "go.mod line N: what is wrong", one per line.
func goModError(err error) error {
	var list modfile.ErrorList
	if !errors.As(err, &list) {
		return fmt.Errorf("go.mod: %v", err)
	}
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		msg := strings.Join(strings.Fields(e.Err.Error()), " ")
		if e.ModPath != "" && !strings.Contains(msg, e.ModPath) {
			msg = e.ModPath + ": " + msg
		}
		if e.Verb != "" && !strings.Contains(msg, e.Verb) {
			msg = e.Verb + ": " + msg
		}
		msgs = append(msgs, fmt.Sprintf("go.mod line %d: %s", e.Pos.Line, msg))
	}
	return errors.New(strings.Join(msgs, "; "))
}
