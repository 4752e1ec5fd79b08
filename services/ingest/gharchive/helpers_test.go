package gharchive

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"giveback.dev/platform/testkit"
)

// sampleHour is the hour of the GH Archive sample.
var sampleHour = time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC)

// sampleLines returns the sample's lines, newline stripped.
func sampleLines(t testing.TB) [][]byte {
	t.Helper()
	return bytes.Split(bytes.TrimRight(sampleJSON(t), "\n"), []byte("\n"))
}

// sampleJSON returns the sample, uncompressed.
func sampleJSON(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(testkit.GHArchiveSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// linkSample makes dir/name point at the sample in ../shared, which is read in place.
func linkSample(t testing.TB, dir, name string) {
	t.Helper()
	if err := os.Symlink(testkit.GHArchiveSample(t), filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// writeGz writes data gzipped to dir/name.
func writeGz(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
