//go:build chdb

package store_test

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"giveback.dev/platform/store/chdblib"
)

// chdbInitChild marks the run of this test binary that TestChdbLibInitRunsFirst starts.
const chdbInitChild = "GIVEBACK_TEST_CHDBLIB_CHILD"

// chdb-go opens libchdb.so in its package init and panics when it is not found, so chdblib's
// init, which points CHDB_LIB_PATH at the library, must run before it. A run of this test
// binary without CHDB_LIB_PATH must start (chdb-go found the library), have the variable set to
// what chdblib.Find returns, and show, in the runtime's trace of package inits, chdblib's before
// chdb-go's. The test fails when the blank import in chdb.go goes or when a change of imports
// reorders the two.
func TestChdbLibInitRunsFirst(t *testing.T) {
	if os.Getenv(chdbInitChild) != "" {
		if got, want := os.Getenv(chdblib.Env), chdblib.Find(); got == "" || got != want {
			t.Fatalf("%s = %q in a run started without it, want %q (chdblib.Find)", chdblib.Env, got, want)
		}
		return
	}
	if chdblib.Find() == "" {
		t.Skip("libchdb.so is not where chdblib.Find looks (GIVEBACK_CACHE); run scripts/setup.sh chdb")
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestChdbLibInitRunsFirst$", "-test.count", "1")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, chdblib.Env+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, chdbInitChild+"=1", "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test binary without %s: %v\n%s", chdblib.Env, err, out)
	}
	order := regexp.MustCompile(`(?m)^init (giveback\.dev/platform/store/chdblib|github\.com/chdb-io/chdb-go/chdb-purego) @`).FindAllSubmatch(out, -1)
	var got []string
	for _, m := range order {
		got = append(got, string(m[1]))
	}
	if len(got) != 2 || got[0] != "giveback.dev/platform/store/chdblib" {
		t.Fatalf("package inits in order: %q, want chdblib's and then chdb-go's", got)
	}
}

// Every file of the store that imports chdb-go also imports chdblib for its init, so no build
// links chdb-go without it.
func TestChdbGoImportedWithChdbLib(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, name := range files {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		imports := map[string]bool{}
		for _, im := range f.Imports {
			path, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			imports[path] = true
		}
		if imports["github.com/chdb-io/chdb-go/chdb-purego"] && !strings.HasSuffix(name, "_test.go") {
			found = true
			if !imports["giveback.dev/platform/store/chdblib"] {
				t.Errorf("%s imports chdb-go without giveback.dev/platform/store/chdblib", name)
			}
		}
	}
	if !found {
		t.Fatal("no file of the store imports chdb-go; this test looks in the wrong place")
	}
}
