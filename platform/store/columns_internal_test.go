package store

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/events"
)

// benchContributions returns n contributions shaped like enrich's batches: mostly commits and
// pull requests, some merged, a few with a size and a first response.
func benchContributions(n int) []events.Contribution {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	merged := at.Add(30 * time.Hour)
	cs := make([]events.Contribution, n)
	for i := range cs {
		c := events.Contribution{Schema: events.SchemaContribution, ID: "pr:kubernetes/kubernetes#" + strconv.Itoa(100000+i),
			Kind: events.KindPullRequest, OccurredAt: at.Add(time.Duration(i) * time.Minute), ActorLogin: "user" + strconv.Itoa(i%2000),
			EmployeeID: "e" + strconv.Itoa(i%300), Team: "platform", Repo: "kubernetes/kubernetes", RepoOwner: "kubernetes", IsUpstream: true,
			Destination: "upstream", Foundation: "CNCF", IsDependency: true, DependencyCriticality: 3, Number: 100000 + i,
			Title: "Fix the\tscheduler's \"preemption\" when a node is \\ drained", State: "closed", Merged: i%2 == 0,
			URL: "https://github.com/kubernetes/kubernetes/pull/" + strconv.Itoa(100000+i), Source: events.SourceGHArchive,
			RawID: strconv.Itoa(40000000000 + i), Version: uint64(at.UnixMilli()) << 20, Additions: 120, Deletions: 30, ChangedFiles: 4}
		if c.Merged {
			c.MergedAt, c.ClosedAt, c.FirstResponseAt = &merged, &merged, &merged
		}
		if i%3 == 0 {
			c.ID, c.Kind, c.Number, c.Title, c.State, c.Merged = "commit:kubernetes/kubernetes@"+strconv.Itoa(i), events.KindCommit, 0, "", "", false
			c.AuthorEmail = "user@example.com"
		}
		cs[i] = c
	}
	return cs
}

// BenchmarkEncodeContributions measures the TabSeparated encoding of one 10,000-row insert,
// the part of InsertContributions that runs in Go.
func BenchmarkEncodeContributions(b *testing.B) {
	cs := benchContributions(10_000)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = len(encodeContributions(cs))
	}
	b.SetBytes(int64(n))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cs)), "ns/row")
}

// Every field of events.Contribution that has a column is written to it: setting the field
// alone changes the value of that column, found by the field's JSON name, and of no other.
func TestEveryFieldIsWrittenToItsColumn(t *testing.T) {
	pos := map[string]int{}
	for i, c := range ContributionColumns {
		pos[c.Name] = i
	}
	row := func(c events.Contribution) []string {
		b := encodeContributions([]events.Contribution{c})
		line := strings.TrimSuffix(strings.TrimPrefix(string(b), insertContributions), "\n")
		return strings.Split(line, "\t")
	}
	zero := row(events.Contribution{})
	if len(zero) != len(ContributionColumns) {
		t.Fatalf("a row has %d values for %d columns", len(zero), len(ContributionColumns))
	}
	at := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	yes := true
	typ := reflect.TypeFor[events.Contribution]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := ContributionFieldsNotStored[name]; ok {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			var c events.Contribution
			v := reflect.ValueOf(&c).Elem().Field(i)
			switch v.Interface().(type) {
			case string:
				v.SetString("x")
			case bool:
				v.SetBool(true)
			case int:
				v.SetInt(7)
			case uint64:
				v.SetUint(7)
			case time.Time:
				v.Set(reflect.ValueOf(at))
			case *time.Time:
				v.Set(reflect.ValueOf(&at))
			case *bool:
				v.Set(reflect.ValueOf(&yes))
			default:
				t.Fatalf("field %s has type %s, which this test cannot set; add it", f.Name, f.Type)
			}
			got := row(c)
			var changed []string
			for j := range got {
				if got[j] != zero[j] {
					changed = append(changed, ContributionColumns[j].Name)
				}
			}
			if want, ok := pos[name]; !ok || len(changed) != 1 || changed[0] != ContributionColumns[want].Name {
				t.Fatalf("setting %s (%s) changed columns %v, want only %s", f.Name, name, changed, name)
			}
		})
	}
}
