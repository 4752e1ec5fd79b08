package gharchive

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"giveback.dev/platform/events"
)

// totalKey is one (repository, actor, event type) counted within an hour.
type totalKey struct{ repo, actor, kind string }

// totals counts, for one hour, the events of every actor in the watched repositories.
type totals struct {
	watch  map[string]struct{} // lower-case owner/name
	counts map[totalKey]uint64
}

func newTotals(watch map[string]struct{}) *totals {
	if len(watch) == 0 {
		return nil
	}
	return &totals{watch: watch, counts: make(map[totalKey]uint64)}
}

// count adds the line when its repository is watched. It walks only type, actor and repo, which
// GH Archive writes before the payload, and stops at the payload.
func (t *totals) count(line []byte) {
	var kind, actorObj, actor, repo []byte
walk:
	for m := newMembers(line); m.next(); {
		switch {
		case keyIs(m.key, "type"):
			kind = stringText(m.value())
		case keyIs(m.key, "actor"):
			actorObj = m.value() // its login is read only when the repository is watched
		case keyIs(m.key, "repo"):
			repo = memberText(m.value(), "name")
			if !inSet(t.watch, repo) {
				return
			}
		case keyIs(m.key, "payload"):
			if repo != nil {
				break walk
			}
		}
		if kind != nil && actorObj != nil && repo != nil {
			break
		}
	}
	actor = memberText(actorObj, "login")
	if len(repo) == 0 || len(actor) == 0 || len(kind) == 0 || !inSet(t.watch, repo) {
		return
	}
	t.counts[totalKey{repo: string(repo), actor: string(actor), kind: string(kind)}]++
}

// rows returns the counts of the hour, sorted, as dated rows.
func (t *totals) rows(day string) []events.ActivityRow {
	out := make([]events.ActivityRow, 0, len(t.counts))
	for k, n := range t.counts {
		out = append(out, events.ActivityRow{Day: day, Repo: k.repo, Actor: k.actor, Type: k.kind, Events: n})
	}
	slices.SortFunc(out, func(a, b events.ActivityRow) int {
		return cmp.Or(strings.Compare(a.Repo, b.Repo), strings.Compare(a.Actor, b.Actor), strings.Compare(a.Type, b.Type))
	})
	return out
}

// stringText returns the text of a raw JSON string, or nil when raw is not one.
func stringText(raw []byte) []byte {
	if len(raw) < 2 || raw[0] != '"' {
		return nil
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return []byte(stringValue(raw))
}
