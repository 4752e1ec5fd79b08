// Package testkit gives tests the real components in-process: an embedded NATS server with
// JetStream, a chDB database of their own, and the paths of recorded inputs from outside the
// project (the GH Archive sample in ../shared/testdata, the npm fixtures fetched by
// scripts/setup.sh). A test whose input is absent is skipped with a message saying how to get it.
package testkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/store"
)

// NATS starts an embedded JetStream server for the test, declares Giveback's streams and
// returns a connection to it. Everything is shut down when the test ends.
func NATS(t testing.TB) (*bus.Embedded, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	srv, nc, js := BareNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := bus.EnsureStreams(ctx, js, bus.StreamOptions{}); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return srv, nc, js
}

// BareNATS starts an embedded JetStream server for the test and returns a connection to it,
// declaring nothing: for tests of what a server holds before Giveback declares its streams.
// Everything is shut down when the test ends.
func BareNATS(t testing.TB) (*bus.Embedded, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	srv, err := bus.StartEmbedded(t.TempDir(), "127.0.0.1:-1")
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	nc, js, err := bus.Connect(srv.URL(), "test", bus.Credentials{})
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(nc.Close)
	return srv, nc, js
}

var dbSeq atomic.Int64

// chdbDir is the directory of the process's one chDB engine, shared by the tests of a package.
var chdbDir = filepath.Join(os.TempDir(), fmt.Sprintf("giveback-test-chdb-%d", os.Getpid()))

// Store opens a fresh, migrated database for the test. With GIVEBACK_TEST_CLICKHOUSE_DSN set it
// uses that ClickHouse server; otherwise chDB, which needs the binary built with -tags chdb and
// CHDB_LIB_PATH pointing at libchdb.so (scripts/setup.sh fetches it; make test sets both).
func Store(t testing.TB) *store.Store {
	t.Helper()
	name := regexp.MustCompile(`[^A-Za-z0-9_]`).ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	db := fmt.Sprintf("t%d_%d_%s", os.Getpid(), dbSeq.Add(1), strings.ToLower(name))
	dsn := os.Getenv("GIVEBACK_TEST_CLICKHOUSE_DSN")
	if dsn == "" {
		if os.Getenv("CHDB_LIB_PATH") == "" {
			Missing(t, "testkit: CHDB_LIB_PATH is not set; run scripts/setup.sh chdb and `make test`, which sets it")
		}
		dsn = "chdb://" + chdbDir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := store.Open(ctx, store.Options{DSN: dsn, Database: db})
	if errors.Is(err, store.ErrNoChDB) {
		Missing(t, "testkit: built without chDB; run tests with -tags chdb (make test does)")
	}
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	s := store.New(conn)
	t.Cleanup(func() {
		// Plain DROP: chDB 26.5 hangs on a second DROP … SYNC in one session.
		if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+store.Ident(db)); err != nil {
			t.Logf("testkit: drop %s: %v", db, err)
		}
		s.Close()
	})
	if err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return s
}

// Shared returns the directory of the data from outside the project (../shared/testdata beside
// the repository, or $GIVEBACK_SHARED_TESTDATA), skipping the test when it is absent, except
// under CI (the CI environment variable set), where its absence fails the test.
func Shared(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("GIVEBACK_SHARED_TESTDATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "testdata")
		if st, err := os.Stat(filepath.Join(cand, "gharchive")); err == nil && st.IsDir() {
			return cand
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	Missing(t, "testkit: ../shared/testdata is absent beside the repository (or set GIVEBACK_SHARED_TESTDATA): a test that reads real GH Archive data")
	return ""
}

// Missing ends a test whose real component or data is absent: skipped on a developer's
// machine, failed under CI (the CI environment variable set), where set-up provides it all.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (required under CI)")
	}
	t.Skip(msg)
}

// GHArchiveSample returns the path of the real GH Archive sample (2,048 events of 2025-01-01 15h).
func GHArchiveSample(t testing.TB) string {
	return filepath.Join(Shared(t), "gharchive", "2025-01-01-15-head2048.json.gz")
}

// Cache returns the directory scripts/setup.sh fetches into.
func Cache() string {
	if d := os.Getenv("GIVEBACK_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "giveback-cache")
	}
	return filepath.Join(home, ".cache", "giveback")
}

func npmPackage(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(Cache(), "npm", dir)
	if _, err := os.Stat(filepath.Join(p, ".verified")); err != nil {
		Missing(t, fmt.Sprintf("testkit: %s is not fetched; run scripts/setup.sh fixtures (make test does)", dir))
	}
	return p
}

// WebhookExamples returns the path of @octokit/webhooks-examples' index.json: an array of
// {"name": event, "examples": [payload, …]}.
func WebhookExamples(t testing.TB) string {
	return filepath.Join(npmPackage(t, "octokit/webhooks-examples@7.6.1"), "api.github.com", "index.json")
}

// OctokitFixtures returns the scenarios directory of @octokit/fixtures (recorded REST exchanges
// in nock format: scenarios/api.github.com/<name>/normalized-fixture.json).
func OctokitFixtures(t testing.TB) string {
	return filepath.Join(npmPackage(t, "octokit/fixtures@23.1.2"), "scenarios")
}
