package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestDepsImportAndList(t *testing.T) {
	requireChDB(t)
	ctx := context.Background()
	dsn := "chdb://" + filepath.Join(t.TempDir(), "clickhouse")
	testdata := "../../platform/deps/testdata"

	// Good and bad files together: the good ones are imported, each bad one is reported with its
	// path, and the command fails.
	var out, errb bytes.Buffer
	err := cmdDeps(ctx, []string{"import", "--clickhouse", dsn, "--log-level", "error", testdata + "/good", testdata + "/bad"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "3 of 8 files or paths failed") {
		t.Fatalf("import with bad files: err %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{"bad/sbom.json: unknown JSON document", "bad/truncated.cdx.json: truncated JSON", "bad/gomod/go.mod: go.mod line 7"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr does not report %q:\n%s", want, errb.String())
		}
	}
	if !strings.Contains(out.String(), ": 5 files, 5 services, 32 packages, 17 repositories mapped, 11 packages unmapped") {
		t.Errorf("summary:\n%s", out.String())
	}

	out.Reset()
	errb.Reset()
	if err := cmdDeps(ctx, []string{"list", "--clickhouse", dsn, "--log-level", "error", "--limit", "2"}, &out, &errb); err != nil {
		t.Fatalf("list: %v (%s)", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], "3 ") || !strings.Contains(lines[2], "nats-io/nats.go") || !strings.Contains(lines[2], "billing-service,checkout-api,github.com/example-corp/ledger") {
		t.Errorf("list:\n%s", out.String())
	}

	// A re-import of one file replaces the list.
	out.Reset()
	if err := cmdDeps(ctx, []string{"import", "--clickhouse", dsn, "--log-level", "error", testdata + "/good/billing/billing.spdx.json"}, &out, &errb); err != nil {
		t.Fatalf("re-import: %v", err)
	}
	out.Reset()
	if err := cmdDeps(ctx, []string{"list", "--clickhouse", dsn, "--log-level", "error"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 4 || !strings.Contains(out.String(), "psf/requests") {
		t.Errorf("list after re-import (want the header and 2 repositories):\n%s", out.String())
	}

	// Nothing readable: nothing imported, the list stays.
	if err := cmdDeps(ctx, []string{"import", "--clickhouse", dsn, "--log-level", "error", testdata + "/bad"}, &out, &errb); err == nil || !strings.Contains(err.Error(), "the current dependency list is unchanged") {
		t.Errorf("import of only bad files: %v", err)
	}
	if err := cmdDeps(ctx, []string{"frobnicate"}, &out, &errb); err == nil {
		t.Error("unknown subcommand accepted")
	}
}
