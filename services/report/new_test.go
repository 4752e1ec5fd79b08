package report_test

import (
	"testing"

	"giveback.dev/services/report"
)

// newServer returns report.New(o), failing the test on an error.
func newServer(tb testing.TB, o report.Options) *report.Server {
	tb.Helper()
	srv, err := report.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}
