package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"giveback.dev/platform/testkit"
)

// buildBinary builds the giveback command, with chDB, into a directory of the test.
func buildBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv("CHDB_LIB_PATH") == "" {
		testkit.Missing(t, "CHDB_LIB_PATH is not set; run scripts/setup.sh chdb and `make test`, which sets it")
	}
	built.once.Do(func() {
		// One build for every test of the process, under TMPDIR (make test removes it after).
		dir, err := os.MkdirTemp("", "giveback-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(dir, "giveback")
		if out, err := exec.Command("go", "build", "-tags", "chdb", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is the binary buildBinary built, once per test process.
var built struct {
	once sync.Once
	bin  string
	err  error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// storedContributions returns how many contributions the instance at addr holds, -1 when it does
// not answer yet.
func storedContributions(addr string) int {
	return queryCount(addr, "SELECT count() FROM contributions")
}

// queryCount runs a statement of one count through the report service at addr and returns the
// count, -1 when it does not answer.
func queryCount(addr, sql string) int {
	resp, err := http.Get("http://" + addr + "/api/v1/query?format=csv&q=" + url.QueryEscape(sql))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var header string
	var n int
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	if _, err := fmt.Fscan(resp.Body, &header, &n); err != nil {
		return -1
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// stopWith starts the binary with args, waits (at most 4 minutes) until busy says it is in the
// middle of heavy inserts, sends sig and checks that it exits 0 within drain.
func stopWith(t *testing.T, bin string, sig syscall.Signal, drain time.Duration, busy func(out string) bool, args ...string) {
	t.Helper()
	var out syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(4 * time.Minute)
	for !busy(out.String()) {
		select {
		case err := <-exited:
			t.Fatalf("giveback %s exited before the signal: %v\n%s", args[0], err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("giveback %s: no heavy inserts within 4 minutes\n%s", args[0], out.String())
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("giveback %s, %s in the middle of its inserts: %v (want exit 0)\n%s", args[0], sig, err, out.String())
		}
		t.Logf("giveback %s, %s in the middle of its inserts: exit 0 in %s", args[0], sig, time.Since(sent).Round(time.Millisecond))
	case <-time.After(drain):
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		<-exited
		t.Fatalf("giveback %s: still running %s after %s\n%s", args[0], drain, sig, out.String())
	}
}

// The built binary exits 0, without a crash and within its drain timeout, when a signal stops it
// in the middle of heavy inserts: giveback up (the three services, embedded NATS and chDB) by
// SIGTERM during the demo backfill, giveback bench by SIGINT while enrich stores its backlog.
func TestSignalsStopTheBinaryCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("up", func(t *testing.T) {
		t.Parallel()
		addr, natsAddr := freeAddr(t), freeAddr(t)
		stopWith(t, bin, syscall.SIGTERM, time.Minute, func(string) bool { return storedContributions(addr) >= 2000 },
			"up", "--demo", "--data", t.TempDir(), "--addr", addr, "--nats-addr", natsAddr, "--log-level", "warn")
	})
	t.Run("bench", func(t *testing.T) {
		t.Parallel()
		var seen time.Time
		stopWith(t, bin, syscall.SIGINT, time.Minute, func(out string) bool {
			if !strings.Contains(out, "ingest publish:") {
				return false
			}
			if seen.IsZero() {
				seen = time.Now()
			}
			return time.Since(seen) > 2*time.Second // enrich has been storing the backlog for a while
		}, "bench", "--events", "20000", "--rows", "", "--log-level", "warn")
	})
}
