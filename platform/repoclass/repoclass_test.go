package repoclass

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	c, err := New([]string{"Example-Corp", "example-corp-oss"},
		map[string]string{"example-corp-oss/widget": "CNCF", "Apache/Kafka": "", "acme": "Acme Foundation"},
		map[string]int{"Kubernetes/Kubernetes": 3, "nats-io/nats.go": 1})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		repo  Repo
		actor string
		want  Class
	}{
		{"private company repo", Repo{Name: "example-corp/billing"}, "ann", Class{Destination: Internal}},
		{"public company repo", Repo{Name: "Example-Corp/sdk", Public: true}, "ann", Class{Destination: CompanyOSS}},
		{"company repo donated by override", Repo{Name: "example-corp-oss/widget", Public: true}, "ann", Class{Destination: CompanyOSS, Foundation: "CNCF"}},
		{"company fork stays the company's", Repo{Name: "example-corp/kubernetes", Fork: true, Public: true}, "ann", Class{Destination: CompanyOSS}},
		{"personal", Repo{Name: "Ann/dotfiles", Public: true}, "ann", Class{Destination: Personal}},
		{"personal fork", Repo{Name: "ann/kubernetes", Fork: true}, "ANN", Class{Destination: Personal}},
		{"someone else's fork", Repo{Name: "bob/kubernetes", Fork: true}, "ann", Class{Destination: Fork}},
		{"upstream dependency in a foundation", Repo{Name: "kubernetes/kubernetes", Public: true}, "ann", Class{Destination: Upstream, Foundation: "CNCF", IsDependency: true, Criticality: 3}},
		{"upstream dependency (NATS is CNCF)", Repo{Name: "nats-io/nats.go"}, "ann", Class{Destination: Upstream, Foundation: "CNCF", IsDependency: true, Criticality: 1}},
		{"apache", Repo{Name: "apache/spark"}, "ann", Class{Destination: Upstream, Foundation: "Apache Software Foundation"}},
		{"override removes one repo", Repo{Name: "apache/kafka"}, "ann", Class{Destination: Upstream}},
		{"override adds an owner", Repo{Name: "acme/rockets"}, "ann", Class{Destination: Upstream, Foundation: "Acme Foundation"}},
		{"eclipse prefix", Repo{Name: "eclipse-jdt/eclipse.jdt.core"}, "ann", Class{Destination: Upstream, Foundation: "Eclipse Foundation"}},
		{"eclipse org", Repo{Name: "eclipse/che"}, "ann", Class{Destination: Upstream, Foundation: "Eclipse Foundation"}},
		{"openjs", Repo{Name: "nodejs/node"}, "ann", Class{Destination: Upstream, Foundation: "OpenJS Foundation"}},
		{"psf", Repo{Name: "python/cpython"}, "ann", Class{Destination: Upstream, Foundation: "Python Software Foundation"}},
		{"rust", Repo{Name: "rust-lang/rust"}, "ann", Class{Destination: Upstream, Foundation: "Rust Foundation"}},
		{"cdf", Repo{Name: "jenkinsci/jenkins"}, "ann", Class{Destination: Upstream, Foundation: "CD Foundation"}},
		{"plain upstream", Repo{Name: "torvalds/linux"}, "ann", Class{Destination: Upstream}},
		{"empty actor is nobody's", Repo{Name: "x/y"}, "", Class{Destination: Upstream}},
		{"malformed name", Repo{Name: ""}, "ann", Class{Destination: Upstream}},
	}
	for _, tc := range cases {
		if got := c.Classify(tc.repo, tc.actor); got != tc.want {
			t.Errorf("%s: Classify(%+v, %q) = %+v, want %+v", tc.name, tc.repo, tc.actor, got, tc.want)
		}
	}
}

func TestFoundationsFile(t *testing.T) {
	fm, err := defaultFoundations()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(fm.exact) + len(fm.prefixes); n < 60 {
		t.Errorf("%d entries, want at least 60", n)
	}
	for k, f := range fm.exact {
		if f == "" || k != strings.ToLower(k) {
			t.Errorf("entry %q → %q", k, f)
		}
	}
	if _, err := parseFoundations([]byte("A: [x]\nB: [X]\n"), "t.yaml"); err == nil || !strings.Contains(err.Error(), "listed under both A and B") {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := parseFoundations([]byte("A: [not/a/repo]\n"), "t.yaml"); err == nil || !strings.Contains(err.Error(), `"not/a/repo" is not a GitHub owner`) {
		t.Errorf("bad key: %v", err)
	}
	if _, err := New(nil, map[string]string{"bad key!": "X"}, nil); err == nil || !strings.Contains(err.Error(), "dependencies.foundations") {
		t.Errorf("bad override: %v", err)
	}
}

func TestSetDependenciesConcurrent(t *testing.T) {
	c, err := New([]string{"example-corp"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 500 {
				if i == 0 {
					c.SetDependencies(map[string]int{"o/r": j + 1})
					continue
				}
				if cl := c.Classify(Repo{Name: "o/r"}, "ann"); cl.IsDependency != (cl.Criticality > 0) {
					t.Errorf("torn read: %+v", cl)
					return
				}
			}
		}()
	}
	wg.Wait()
	if cl := c.Classify(Repo{Name: "O/R"}, "ann"); cl.Criticality != 500 {
		t.Errorf("after swaps: %+v", cl)
	}
}

func TestWatch(t *testing.T) {
	c, err := New(nil, nil, map[string]int{"a/a": 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls := 0
	load := func(context.Context) (map[string]int, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		switch calls {
		case 1:
			return nil, errors.New("clickhouse down")
		default:
			return map[string]int{"b/b": 2}, nil
		}
	}
	if err := c.Watch(ctx, load, 10*time.Millisecond, nil); err == nil {
		t.Fatal("first load's error not returned")
	}
	if !c.Classify(Repo{Name: "a/a"}, "").IsDependency {
		t.Fatal("a failed load dropped the list in use")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.Classify(Repo{Name: "b/b"}, "").IsDependency {
		if time.Now().After(deadline) {
			t.Fatal("the list was not refreshed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.Classify(Repo{Name: "a/a"}, "").IsDependency {
		t.Error("the refreshed list did not replace the old one")
	}
}

func TestClassifyPersonalByAnyLoginOfThePerson(t *testing.T) {
	c, err := New([]string{"example-corp"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// ann-work pushes to a repository of her other login, ann: her own, not upstream.
	if got := c.Classify(Repo{Name: "Ann/dotfiles", Public: true}, "ann-work", "ann", "ann-work"); got.Destination != Personal {
		t.Errorf("repository of another login of the person: %q, want %q", got.Destination, Personal)
	}
	if got := c.Classify(Repo{Name: "bob/tool", Public: true}, "ann-work", "ann"); got.Destination != Upstream {
		t.Errorf("someone else's repository: %q, want %q", got.Destination, Upstream)
	}
}
