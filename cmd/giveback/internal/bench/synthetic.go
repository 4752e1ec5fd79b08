package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"giveback.dev/platform/deps"
	"giveback.dev/platform/store"
)

// syntheticColumn is a column of contributions the synthetic rows fill and the SQL expression
// of its value, over number (the row's number) and at (its time, the third column). Columns
// not listed take their defaults.
type syntheticColumn struct{ name, expr string }

// syntheticColumns is the shape of a large company's history: two years, six kinds, 1,200
// actors of whom 1,000 are employees in 25 teams and 200 outside contributors (who work in the
// company's open source), a quarter of the pull requests open and half merged. The employees'
// work goes 60% to 5,000 upstream repositories of 1,500 owners, 15% to their own repositories
// (personal), 10% to their forks of upstream repositories, 10% to 200 internal repositories
// and 5% to 50 open source repositories of the company. One upstream repository in ten is a
// dependency of the company (syntheticDependencies), used by one to seven services, and its
// contributions carry the flags enrich gives them. %[1]s in an expression is the time the
// history ends at.
var syntheticColumns = []syntheticColumn{
	{"id", "concat('bench:', toString(number))"},
	{"kind", "['pull_request','review','issue','comment','commit','commit','commit','release'][1 + cityHash64(number, 1) % 8]"},
	{"occurred_at", "toDateTime64('%[1]s', 3, 'UTC') - toIntervalSecond(cityHash64(number, 2) % (730 * 86400)) AS at"},
	{"actor_login", "concat('user', toString(cityHash64(number, 3) % 1200)) AS actor"},
	{"employee_id", "if(cityHash64(number, 3) % 1200 < 1000, concat('e', toString(cityHash64(number, 3) % 1200)), '')"},
	{"team", "if(cityHash64(number, 3) % 1200 < 1000, concat('team', toString(cityHash64(number, 3) % 1200 % 25)), '')"},
	{"destination", "multiIf(cityHash64(number, 3) % 1200 >= 1000, 'company_oss', cityHash64(number, 7) % 100 < 60, 'upstream', " +
		"cityHash64(number, 7) % 100 < 75, 'personal', cityHash64(number, 7) % 100 < 85, 'fork', cityHash64(number, 7) % 100 < 95, 'internal', 'company_oss') AS dest"},
	{"repo", "multiIf(dest = 'upstream', concat('org', toString(cityHash64(number, 4) % 5000 % 1500), '/repo', toString(cityHash64(number, 4) % 5000)), " +
		"dest = 'personal', concat(actor, '/proj', toString(cityHash64(number, 5) % 5)), " +
		"dest = 'fork', concat(actor, '/repo', toString(cityHash64(number, 4) % 5000)), " +
		"dest = 'internal', concat('acme/svc', toString(cityHash64(number, 5) % 200)), concat('acme-oss/lib', toString(cityHash64(number, 5) % 50))) AS r"},
	{"repo_owner", "splitByChar('/', r)[1]"},
	{"is_upstream", "dest = 'upstream'"},
	{"number", "toUInt32(number % 100000)"},
	{"state", "if(cityHash64(number, 6) % 4 = 0, 'open', 'closed')"},
	{"merged", "cityHash64(number, 6) % 4 IN (1, 2)"},
	{"merged_at", "if(cityHash64(number, 6) % 4 IN (1, 2), at + toIntervalHour(30), NULL)"},
	{"closed_at", "if(cityHash64(number, 6) % 4 != 0, at + toIntervalHour(30), NULL)"},
	{"is_dependency", "dest = 'upstream' AND cityHash64(number, 4) % 5000 % 10 = 0"},
	{"dependency_criticality", "if(dest = 'upstream' AND cityHash64(number, 4) % 5000 % 10 = 0, 1 + cityHash64(number, 4) % 5000 % 7, 0)"},
	{"source", "'gharchive'"},
	{"version", "if(number % 20 = 0, 2, 1)"},
}

// syntheticDependencies is the company's dependency list the synthetic rows are flagged
// against: every tenth of the 5,000 upstream repositories, used by one to seven services.
func syntheticDependencies() []deps.Dependency {
	var out []deps.Dependency
	for i := 0; i < 5000; i += 10 {
		out = append(out, deps.Dependency{Repo: fmt.Sprintf("org%d/repo%d", i%1500, i), Criticality: 1 + i%7})
	}
	return out
}

// syntheticInsert returns the statement that appends count synthetic rows numbered from first,
// the history ending at end. Each column must be one of store.ContributionColumns, the one
// definition of the table's row.
func syntheticInsert(end time.Time, first, count int) (string, error) {
	known := map[string]bool{}
	for _, c := range store.ContributionColumns {
		known[c.Name] = true
	}
	names := make([]string, len(syntheticColumns))
	exprs := make([]string, len(syntheticColumns))
	for i, c := range syntheticColumns {
		if !known[c.name] {
			return "", fmt.Errorf("bench: synthetic column %s is not a column of contributions (store.ContributionColumns)", c.name)
		}
		names[i] = c.name
		exprs[i] = "    " + strings.ReplaceAll(c.expr, "%[1]s", end.UTC().Format(time.DateTime))
	}
	return fmt.Sprintf("INSERT INTO contributions (%s)\nSELECT\n%s\nFROM numbers(%d, %d)",
		strings.Join(names, ", "), strings.Join(exprs, ",\n"), first, count), nil
}

// syntheticOlder returns the statement that inserts the older state of every 20th synthetic row
// numbered first to last (version 1, open, not merged), as a separate insert.
func syntheticOlder(first, last int) string {
	return fmt.Sprintf(`INSERT INTO contributions SELECT * REPLACE (1 AS version, 'open' AS state, 0 AS merged) FROM contributions WHERE id LIKE 'bench:%%' AND version = 2 AND toUInt64(substring(id, 7)) BETWEEN %d AND %d`, first, last)
}

// syntheticRows appends n contributions numbered from first (syntheticColumns), 5% of them
// inserted again with an older version (a PR changing state), in 1M-row inserts.
func (b *bench) syntheticRows(ctx context.Context, first, n int) error {
	const chunk = 1_000_000
	end := time.Now()
	for off := first; off < first+n; off += chunk {
		cnt := min(chunk, first+n-off)
		q, err := syntheticInsert(end, off, cnt)
		if err != nil {
			return err
		}
		if err := b.store.Conn().Exec(ctx, q); err != nil {
			return fmt.Errorf("bench: synthetic rows: %w", err)
		}
		if err := b.store.Conn().Exec(ctx, syntheticOlder(off, off+cnt-1)); err != nil {
			return fmt.Errorf("bench: synthetic duplicates: %w", err)
		}
	}
	// The list the rows are flagged against, as a dependency import leaves it: the cycle and the
	// risk list read it.
	if err := b.store.ReplaceDependencies(ctx, "bench", 1, syntheticDependencies(), nil); err != nil {
		return fmt.Errorf("bench: synthetic dependencies: %w", err)
	}
	return nil
}
