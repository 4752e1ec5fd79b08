package testkit

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Chromium returns the path of a Chromium to drive ($GIVEBACK_CHROMIUM, /usr/bin/chromium or
// /usr/bin/chromium-browser). Where there is none it skips the test, except under CI (the CI
// environment variable set), where it fails: CI installs Chromium, so its absence is a fault.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GIVEBACK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "testkit: no Chromium at /usr/bin/chromium (apt-get install chromium, or set GIVEBACK_CHROMIUM): a test in a real browser")
	return ""
}

// Headless runs Chromium headless on url, in a new profile and with the flags that keep it off
// the network (no background requests, updates or sync), plus extra (e.g. --dump-dom,
// --screenshot=FILE), and returns its standard output. It fails the test when Chromium fails or
// takes more than 90 seconds.
func Headless(t testing.TB, bin, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--no-default-browser-check", "--user-data-dir=" + filepath.Join(t.TempDir(), "profile"),
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return stdout.Bytes()
}
