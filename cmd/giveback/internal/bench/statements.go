package bench

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"giveback.dev/platform/store"
	"giveback.dev/services/report"
)

// statementPages are the pages whose statements statements times one by one.
var statementPages = []string{"/", "/teams", "/projects", "/community"}

// statementsShown is how many of a page's slowest statements statements prints.
const statementsShown = 8

// timedStatement is one statement of a page and the time it took.
type timedStatement struct {
	label string
	took  time.Duration
}

// statements serves each of statementPages once, without the result cache, with the page's
// statements run one at a time, and prints each page's total and its slowest statements: which
// statements a page's time goes to.
func (b *bench) statements(ctx context.Context, filter url.Values) error {
	var mu sync.Mutex
	var got []timedStatement
	timed := b.store.ReadThrough(func(ctx context.Context, q string, _ store.Settings, next func(context.Context) (*store.Result, error)) (*store.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		t0 := time.Now()
		res, err := next(ctx)
		got = append(got, timedStatement{label: statementLabel(q), took: time.Since(t0)})
		return res, err
	})
	srv, err := report.New(report.Options{Store: timed, Company: "Bench", CacheEntries: -1})
	if err != nil {
		return err
	}
	b.printf("\nstatements of each page without the cache, run one at a time, one request, ms\n")
	for _, p := range statementPages {
		got = nil
		if _, err := timeRequests(ctx, srv.Handler(), p+"?"+filter.Encode(), 0, 0); err != nil {
			// A page that refuses the filter is served bare.
			got = nil
			if _, err := timeRequests(ctx, srv.Handler(), p, 0, 0); err != nil {
				return err
			}
		}
		var total time.Duration
		byLabel := map[string]*timedStatement{}
		for _, s := range got {
			total += s.took
			if t, ok := byLabel[s.label]; ok {
				t.took += s.took
			} else {
				byLabel[s.label] = &timedStatement{label: s.label, took: s.took}
			}
		}
		var rows []*timedStatement
		for _, t := range byLabel {
			rows = append(rows, t)
		}
		slices.SortFunc(rows, func(a, b *timedStatement) int { return cmp.Compare(b.took, a.took) })
		b.printf("  %-12s %9.1f total, %d statements\n", p, ms(total), len(got))
		for _, t := range rows[:min(len(rows), statementsShown)] {
			b.printf("    %9.1f  %s\n", ms(t.took), t.label)
		}
	}
	return nil
}

// statementLabel names a statement by its first words and the tables it reads.
func statementLabel(q string) string {
	f := strings.Fields(q)
	head := strings.Join(f[:min(len(f), 8)], " ")
	var from []string
	for i, w := range f[:max(len(f)-1, 0)] {
		if strings.EqualFold(w, "FROM") && !strings.HasPrefix(f[i+1], "(") && !slices.Contains(from, f[i+1]) {
			from = append(from, f[i+1])
		}
	}
	if len(head) > 70 {
		head = head[:70]
	}
	return head + " [" + strings.Join(from, ",") + "]"
}
