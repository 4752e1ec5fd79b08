package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"giveback.dev/services/report/client"
)

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("query", `query "SQL" [--format table|csv|json] [--server URL]`, stderr)
	format := fs.String("format", "table", "output: table, csv or json")
	server := fs.String("server", "http://127.0.0.1:8080", "report service (or giveback up) base URL; an API token, when one is needed, is read from $GIVEBACK_TOKEN")
	// The SQL may come before or after the flags.
	var sql []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		sql = append(sql, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(sql) == 0 {
		fs.Usage()
		return fmt.Errorf(`query: give the SQL as an argument, e.g. giveback query "SELECT kind, count() FROM contributions FINAL GROUP BY kind"`)
	}
	switch *format {
	case "table", "csv", "json":
	default:
		return fmt.Errorf("query: --format %q: want table, csv or json", *format)
	}
	hc := http.DefaultClient
	if tok := os.Getenv("GIVEBACK_TOKEN"); tok != "" {
		hc = &http.Client{Transport: bearer{token: tok, next: http.DefaultTransport}}
	}
	return client.QueryWith(ctx, hc, *server, strings.Join(sql, " "), *format, stdout)
}

// bearer sends an API token (auth.mode tokens, oidc or proxy) with every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
