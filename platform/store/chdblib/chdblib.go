// Package chdblib finds libchdb.so before chdb-go looks for it. chdb-go opens the library in its
// package init, from CHDB_LIB_PATH or the system's library paths, and panics when it is not
// found; this package's init points CHDB_LIB_PATH at the library fetched by scripts/setup.sh
// when the variable is unset, or stops the program with a message saying how to get it.
//
// Its init runs before chdb-go's because Go initializes packages one at a time, each time the
// first by import path of those whose imports are all initialized (the Go spec, since Go 1.21).
// "github.com/…" sorts before "giveback.dev/…", so this package goes first only because
// chdb-go still waits on an import when this one is ready: os/exec, which waits on
// path/filepath, the last of this package's imports to be initialized. So this package imports
// nothing beyond fmt, os and path/filepath (importing os/exec, golang.org/x/sys/unix or purego
// would reverse the order), and platform/store's TestChdbLibInitRunsFirst starts a binary
// without CHDB_LIB_PATH and checks the order in the runtime's trace of package inits.
package chdblib

import (
	"fmt"
	"os"
	"path/filepath"
)

// Version is the pinned version of npm @chdb/lib-linux-x64-gnu that scripts/setup.sh fetches.
const Version = "26.5.3"

// Env is the variable chdb-go reads.
const Env = "CHDB_LIB_PATH"

func init() {
	if os.Getenv(Env) != "" {
		return
	}
	if p := Find(); p != "" {
		if err := os.Setenv(Env, p); err == nil {
			return
		}
	}
	fmt.Fprintf(os.Stderr, "giveback: libchdb.so (the embedded ClickHouse engine) was not found.\n"+
		"Run scripts/setup.sh chdb (make run and make test do), or set %s to its path,\n"+
		"or use a build without chDB (go build without -tags chdb) against a ClickHouse server.\n", Env)
	os.Exit(1)
}

// Find returns the first libchdb.so among: beside the executable, ../lib beside it, and the
// setup cache ($GIVEBACK_CACHE or ~/.cache/giveback); "" when there is none.
func Find() string {
	var cands []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		cands = append(cands, filepath.Join(dir, "libchdb.so"), filepath.Join(dir, "..", "lib", "libchdb.so"))
	}
	cache := os.Getenv("GIVEBACK_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "giveback")
		}
	}
	if cache != "" {
		cands = append(cands, filepath.Join(cache, "npm", "chdb", "lib-linux-x64-gnu@"+Version, "libchdb.so"))
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	return ""
}
