package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestBindQuotesTheTeam(t *testing.T) {
	f := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC),
		Team: `x' OR 1=1 -- \`, Upstream: UpstreamOnly}
	got := f.bind("WHERE occurred_at >= {from} AND occurred_at < {to}{filter} LIMIT {limit}", 5)
	want := `WHERE occurred_at >= toDateTime64('2025-01-01 00:00:00', 3, 'UTC') AND occurred_at < toDateTime64('2025-02-01 00:00:00', 3, 'UTC') AND employee_id != '' AND team = 'x\' OR 1=1 -- \\' AND is_upstream = 1 LIMIT 5`
	if got != want {
		t.Fatalf("bind:\n got %s\nwant %s", got, want)
	}
}

func TestMonths(t *testing.T) {
	f := Filter{From: time.Date(2024, 11, 15, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	var got []string
	for _, m := range f.Months() {
		got = append(got, m.Format("2006-01"))
	}
	if strings.Join(got, " ") != "2024-11 2024-12 2025-01 2025-02" {
		t.Fatalf("months %v", got)
	}
}

func TestStatementsHaveNoTrailingComment(t *testing.T) {
	// The driver appends a SETTINGS clause; a statement ending in a comment would swallow it.
	for _, st := range Statements() {
		last := st.SQL[strings.LastIndex(st.SQL, "\n")+1:]
		if strings.Contains(last, "--") || strings.Contains(st.SQL, ";") {
			t.Errorf("%s ends with a comment or holds a semicolon", st.Name)
		}
	}
}

// FuzzFilterRepo feeds team and repository values to the filter: Validate accepts a repository
// only as owner/name without spaces or control characters, and whatever it accepts reaches the
// SQL as one string literal that reads back as the value (lower-cased for the repository).
func FuzzFilterRepo(f *testing.F) {
	f.Add("core", "golang/go")
	f.Add("", "a/b/c")
	f.Add(`x' OR 1=1 --`, `o/n' OR '1'='1`)
	f.Add("web", `\/\`)
	f.Fuzz(func(t *testing.T, team, repo string) {
		fl := Filter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC),
			Team: team, Repo: repo, Upstream: UpstreamAll}
		if fl.Validate() != nil {
			return
		}
		if repo != "" && (strings.Count(repo, "/") != 1 || strings.ContainsAny(repo, " \t\n\r")) {
			t.Fatalf("repository %q accepted", repo)
		}
		got := fl.bind("{filter}", 0)
		rest := strings.TrimPrefix(got, " AND employee_id != ''")
		for _, part := range []struct{ prefix, value string }{{" AND team = ", team}, {" AND lower(repo) = ", strings.ToLower(repo)}} {
			if part.value == "" {
				continue
			}
			if !strings.HasPrefix(rest, part.prefix) {
				t.Fatalf("bound %q: no %q", got, part.prefix)
			}
			lit, after, ok := readLiteral(rest[len(part.prefix):])
			if !ok || lit != part.value {
				t.Fatalf("bound %q: literal reads %q (ok %v), want %q", got, lit, ok, part.value)
			}
			rest = after
		}
		if rest != "" {
			t.Fatalf("bound %q: %q left after the literals", got, rest)
		}
	})
}

// readLiteral reads one single-quoted ClickHouse string literal (backslash escapes) from the
// start of s, as ClickHouse's lexer does, and returns its value and the text after it.
func readLiteral(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 >= len(s) {
				return "", s, false
			}
			i++
			b.WriteByte(s[i])
		case '\'':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(s[i])
		}
	}
	return "", s, false
}
