// Package client is the command-line side of the report service's ad hoc SQL endpoint: it sends
// a statement to /api/v1/query and writes the answer as an aligned table, CSV or JSON.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"giveback.dev/services/report/query"
)

// Formats lists the output formats Query writes.
var Formats = []string{"table", "csv", "json"}

// maxError is how much of an error answer is read.
const maxError = 64 << 10

// Query runs sql on the report service at serverURL (e.g. http://127.0.0.1:8080) and writes the
// result to w in format: "table" (aligned columns; the default when format is ""), "csv" or
// "json" (the server's JSON as is). A statement the server refuses or that fails is returned as
// an error carrying the server's reason.
func Query(ctx context.Context, serverURL, sql, format string, w io.Writer) error {
	return QueryWith(ctx, http.DefaultClient, serverURL, sql, format, w)
}

// QueryWith is Query with a given HTTP client.
func QueryWith(ctx context.Context, hc *http.Client, serverURL, sql, format string, w io.Writer) error {
	if format == "" {
		format = "table"
	}
	wire := "json"
	switch format {
	case "table", "json":
	case "csv":
		wire = "csv"
	default:
		return fmt.Errorf("query: format %q must be one of %s", format, strings.Join(Formats, ", "))
	}
	u, err := url.Parse(strings.TrimRight(serverURL, "/") + "/api/v1/query")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("query: server %q must be an http(s) URL such as http://127.0.0.1:8080", serverURL)
	}
	u.RawQuery = url.Values{"format": {wire}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(sql))
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	req.Header.Set("Content-Type", "application/sql; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return serverError(resp)
	}
	if format != "table" {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return fmt.Errorf("query: read answer: %w", err)
		}
		return nil
	}
	var res query.Response
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(&res); err != nil {
		return fmt.Errorf("query: decode answer: %w", err)
	}
	return WriteTable(w, res)
}

// serverError turns an error answer into an error with the server's reason.
func serverError(resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxError))
	if err != nil {
		return fmt.Errorf("query: server answered %s", resp.Status)
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Errorf("query: server refused (%d): %s", resp.StatusCode, e.Error)
	}
	text := strings.TrimSpace(string(body))
	if text == "" {
		return fmt.Errorf("query: server answered %s", resp.Status)
	}
	return fmt.Errorf("query: server answered %s: %s", resp.Status, text)
}

// WriteTable writes a result as aligned text columns under a header and a rule, numbers
// right-aligned, followed by the row count. NULL is shown as NULL; multi-line values are shown
// on one line with \n.
func WriteTable(w io.Writer, res query.Response) error {
	n := len(res.Columns)
	cells := make([][]string, 0, len(res.Rows)+1)
	header := make([]string, n)
	for i, c := range res.Columns {
		header[i] = c.Name
	}
	cells = append(cells, header)
	numeric := make([]bool, n)
	for i, c := range res.Columns {
		numeric[i] = isNumeric(c.Type)
	}
	for _, row := range res.Rows {
		line := make([]string, n)
		for i := range line {
			if i >= len(row) {
				continue
			}
			if row[i] == nil {
				line[i] = "NULL"
				continue
			}
			v := row[i]
			if num, ok := v.(json.Number); ok {
				v = num.String()
			}
			s, err := query.Field(v)
			if err != nil {
				return err
			}
			line[i] = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
		}
		cells = append(cells, line)
	}
	width := make([]int, n)
	for _, line := range cells {
		for i, s := range line {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	var b bytes.Buffer
	writeLine := func(line []string) {
		for i, s := range line {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if i > 0 {
				b.WriteString("  ")
			}
			switch {
			case numeric[i]:
				b.WriteString(pad + s)
			case i == n-1:
				b.WriteString(s)
			default:
				b.WriteString(s + pad)
			}
		}
		b.WriteByte('\n')
	}
	writeLine(cells[0])
	rule := make([]string, n)
	for i := range rule {
		rule[i] = strings.Repeat("-", width[i])
	}
	writeLine(rule)
	for _, line := range cells[1:] {
		writeLine(line)
	}
	noun := "rows"
	if res.RowsCount == 1 {
		noun = "row"
	}
	fmt.Fprintf(&b, "(%d %s, %.1f ms)\n", res.RowsCount, noun, res.ElapsedMS)
	if _, err := b.WriteTo(w); err != nil {
		return fmt.Errorf("query: write table: %w", err)
	}
	return nil
}

// isNumeric reports whether a ClickHouse type is a number (possibly Nullable or LowCardinality).
func isNumeric(t string) bool {
	for _, wrap := range []string{"LowCardinality(", "Nullable("} {
		if strings.HasPrefix(t, wrap) {
			t = strings.TrimSuffix(strings.TrimPrefix(t, wrap), ")")
		}
	}
	for _, p := range []string{"Int", "UInt", "Float", "Decimal"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
