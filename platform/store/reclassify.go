package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"giveback.dev/platform/repoclass"
)

// maxMutationBytes caps one reclassifying ALTER: ClickHouse parses a statement whole and refuses
// one longer than max_query_size (256 KiB by default, chDB's too), and the repository names
// travel inside it. The margin holds the last UPDATE's head and the SETTINGS clause.
const maxMutationBytes = 252 << 10

// reclassifyPoll is how often chDB is asked whether the reclassifying mutations are done.
const reclassifyPoll = 100 * time.Millisecond

// depFlags are the dependency flags of a contribution as stored.
type depFlags struct {
	dep  uint8  // is_dependency
	crit uint64 // dependency_criticality
}

// ReclassifyDependencies brings the dependency flags of the stored contributions
// (is_dependency, dependency_criticality) in line with deps, the dependency list (repository
// owner/name → criticality), matching names as repoclass.Classify does. enrich flags a
// contribution when it stores it, so once the list changes the rows stored before carry the
// flags of the list they were classified against.
//
// It reads which stored repository names carry flags that differ, then rewrites the flags of
// those rows only, every stored version of them, in mutations it waits for (on every replica):
// readers see the result when it returns. When nothing differs it writes nothing, which
// matters: a mutation visits every active part of the table even when it matches no row, and
// chDB takes 100–150 ms a part, whatever its size (BenchmarkReclassifyDependencies).
func (s *Store) ReclassifyDependencies(ctx context.Context, deps map[string]int) error {
	list := repoclass.NormalizeDependencies(deps)
	// Every stored version, not FINAL: an older version that a merge has not replaced yet is
	// read by argMax(…, version) queries before a merge and must carry the same flags.
	res, err := s.conn.Query(ctx, `SELECT repo, is_dependency, dependency_criticality FROM contributions
GROUP BY repo, is_dependency, dependency_criticality`, nil)
	if err != nil {
		return fmt.Errorf("store: reclassify dependencies: read flags: %w", err)
	}
	byFlags := map[depFlags][]string{}
	listed := map[string]bool{}
	for _, r := range res.Rows {
		repo := AsString(r[0])
		var want depFlags
		if c, ok := list[repoclass.Key(repo)]; ok {
			want = depFlags{dep: 1, crit: uint64(max(c, 0))}
		}
		if listed[repo] || AsInt(r[1]) == int64(want.dep) && uint64(AsInt(r[2])) == want.crit {
			continue
		}
		listed[repo] = true
		byFlags[want] = append(byFlags[want], repo)
	}
	if len(listed) == 0 {
		return nil
	}
	flags := make([]depFlags, 0, len(byFlags))
	for f, repos := range byFlags {
		flags = append(flags, f)
		sort.Strings(repos)
	}
	sort.Slice(flags, func(i, j int) bool {
		return flags[i].dep < flags[j].dep || flags[i].dep == flags[j].dep && flags[i].crit < flags[j].crit
	})
	// One ALTER holds one UPDATE per set of flags (one mutation); a list too long for one
	// statement is split over several. On a server each is waited for (mutations_sync). chDB
	// applies the mutations in the background either way, and one waited for in its statement
	// would hold one of the engine's few clients, which enrich's inserts and report's reads
	// share, until every part is rewritten: there they are all sent unwaited, then polled for. The
	// mutations waiting for a part are applied to it in one pass, so the split costs little.
	chdb := s.conn.Driver() == "chdb"
	fail := func(err error) error {
		if ctx.Err() == nil { // a mutation merely not waited for any more still runs to its end
			s.dropFailedReclassify(ctx)
		}
		return fmt.Errorf("store: reclassify dependencies of %d repositories: %w", len(listed), err)
	}
	var stmt strings.Builder
	open := false // an UPDATE … IN ( is open in stmt
	flush := func() error {
		if stmt.Len() == 0 {
			return nil
		}
		if open {
			stmt.WriteString(")")
			open = false
		}
		q := stmt.String()
		stmt.Reset()
		var err error
		if chdb {
			err = s.conn.Exec(ctx, q+" SETTINGS mutations_sync = 0")
		} else {
			err = s.mutate(ctx, q)
		}
		if err != nil {
			return fail(err)
		}
		return nil
	}
	for _, f := range flags {
		for _, repo := range byFlags[f] {
			q := Quote(repo)
			if stmt.Len() > 0 && stmt.Len()+len(q)+2 > maxMutationBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			switch {
			case stmt.Len() == 0:
				stmt.WriteString("ALTER TABLE contributions ")
			case open:
				stmt.WriteString(", ")
			default:
				stmt.WriteString(",\n")
			}
			if !open {
				dep, crit := strconv.Itoa(int(f.dep)), strconv.FormatUint(f.crit, 10)
				stmt.WriteString("UPDATE is_dependency = " + dep + ", dependency_criticality = " + crit +
					" WHERE NOT (is_dependency = " + dep + " AND dependency_criticality = " + crit + ") AND repo IN (")
				open = true
			}
			stmt.WriteString(q)
		}
		if open {
			stmt.WriteString(")")
			open = false
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if chdb {
		if err := s.waitReclassify(ctx); err != nil {
			return fail(err)
		}
	}
	return nil
}

// reclassifyMutations selects the reclassifying mutations of contributions not yet applied.
const reclassifyMutations = `database = currentDatabase() AND table = 'contributions' AND NOT is_done
AND position(command, 'dependency_criticality') > 0`

// waitReclassify polls until the reclassifying mutations are applied to every part; a mutation
// that fails on a part is an error.
func (s *Store) waitReclassify(ctx context.Context) error {
	for {
		res, err := s.conn.Query(ctx, "SELECT count(), anyIf(latest_fail_reason, latest_fail_reason != '') FROM system.mutations WHERE "+reclassifyMutations, nil)
		if err != nil {
			return err
		}
		if len(res.Rows) == 0 || AsInt(res.Rows[0][0]) == 0 {
			return nil
		}
		if reason := AsString(res.Rows[0][1]); reason != "" {
			return fmt.Errorf("mutation failed: %s", reason)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(reclassifyPoll):
		}
	}
}

// dropFailedReclassify kills the reclassifying mutations left unfinished by a failure: ClickHouse
// would retry them forever and hold back every later mutation of contributions (an opt-out's
// deletion too). The next ReclassifyDependencies writes the flags afresh; parts already
// rewritten keep the right ones. Best effort.
func (s *Store) dropFailedReclassify(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = s.conn.Exec(ctx, "KILL MUTATION WHERE "+reclassifyMutations)
}
