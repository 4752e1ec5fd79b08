package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrRefused is wrapped by every error AdHoc returns for a statement it will not run; the text
// after it names the class ("table function file", "system table query_log not allowed", …).
var ErrRefused = errors.New("query rejected")

// ErrBusy is returned by AdHoc when AdHocOptions.MaxConcurrent ad hoc statements are running.
var ErrBusy = errors.New("store: too many ad hoc queries are running")

// AdHocOptions bound one untrusted statement.
type AdHocOptions struct {
	// Check is the lexical guard: it returns the statement trimmed to one statement, or an
	// error. It runs on the text as sent and again on ClickHouse's canonical form of it.
	Check func(string) (string, error)
	// Settings are the limits and read-only mode the statement runs with. On chDB they follow
	// the canonical text as a SETTINGS clause; on a server they travel in the protocol.
	Settings Settings
	// MaxConcurrent caps the ad hoc statements running at once in this process; 0 means 4.
	MaxConcurrent int
}

// RowWriter receives a result as it is read: the columns once, then each row.
type RowWriter interface {
	Columns(cols []Column) error
	Row(row []any) error
}

// rowStreamer is implemented by the drivers: run a statement and hand its rows to w one by one,
// as the adhoc argument says (chDB gives ad hoc statements a lower priority).
type rowStreamer interface {
	queryRows(ctx context.Context, q string, s Settings, w RowWriter) error
	database() string
}

// AllowedTableFunctions are the table functions an ad hoc statement may use: generators of
// numbers and inline values, which read nothing.
var AllowedTableFunctions = map[string]bool{
	"numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true,
	"generate_series": true, "generateseries": true, "values": true,
}

// AllowedSystemTables are the system tables an ad hoc statement may read: the catalogue of
// tables and columns (on a server, limited by the reader's grants to what it may see), and the
// generators one, numbers and zeros, which read nothing.
var AllowedSystemTables = map[string]bool{"tables": true, "columns": true, "one": true,
	"numbers": true, "numbers_mt": true, "zeros": true, "zeros_mt": true}

var gates sync.Map // *Store → chan struct{}

// AdHoc runs an untrusted, read-only statement and streams its result to w. The text never runs
// as sent: it passes o.Check, then ClickHouse's own parser rewrites it to its canonical form
// through formatQuery (the text travels inside an escaped string literal, and formatQuery
// refuses more than one statement), the canonical form passes o.Check again, and its syntax
// tree (EXPLAIN AST) must be one SELECT (or UNION), SHOW TABLES/COLUMNS/CREATE TABLE, DESCRIBE
// or EXPLAIN of a SELECT that reads only the store's database, AllowedSystemTables and
// AllowedTableFunctions. Only then does the canonical statement run, with o.Settings.
func (s *Store) AdHoc(ctx context.Context, stmt string, o AdHocOptions, w RowWriter) error {
	rs, ok := s.conn.(rowStreamer)
	if !ok {
		return fmt.Errorf("store: driver %s cannot run ad hoc statements", s.conn.Driver())
	}
	n := o.MaxConcurrent
	if n <= 0 {
		n = 4
	}
	g, _ := gates.LoadOrStore(s, make(chan struct{}, n))
	gate := g.(chan struct{})
	select {
	case gate <- struct{}{}:
		defer func() { <-gate }()
	default:
		return ErrBusy
	}
	canonical, err := s.Canonical(ctx, stmt, o.Check)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return rs.queryRows(ctx, canonical, o.Settings, w)
}

// Canonical returns the statement as ClickHouse's parser prints it, after checking it and its
// syntax tree as AdHoc describes; errors for a refused statement wrap ErrRefused.
func (s *Store) Canonical(ctx context.Context, stmt string, check func(string) (string, error)) (string, error) {
	rs, ok := s.conn.(rowStreamer)
	if !ok {
		return "", fmt.Errorf("store: driver %s cannot run ad hoc statements", s.conn.Driver())
	}
	stmt, err := check(stmt)
	if err != nil {
		return "", err
	}
	res, err := s.conn.Query(ctx, "SELECT formatQuery("+Quote(stmt)+")", nil)
	if err != nil {
		if strings.Contains(err.Error(), "Multi-statements are not allowed") {
			return "", refuse("second statement: ClickHouse reads more than one statement here")
		}
		return "", err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", fmt.Errorf("store: formatQuery returned %d rows", len(res.Rows))
	}
	canonical, ok := res.Rows[0][0].(string)
	canonical = strings.TrimSpace(canonical)
	if !ok || canonical == "" {
		return "", fmt.Errorf("store: formatQuery returned %T", res.Rows[0][0])
	}
	again, err := check(canonical)
	if err != nil {
		return "", err
	}
	if again != canonical {
		return "", refuse("second statement: the canonical form %q is not one statement", canonical)
	}
	tree, err := s.conn.Query(ctx, "EXPLAIN AST "+canonical, nil)
	if err != nil {
		return "", err
	}
	lines := make([]string, 0, len(tree.Rows))
	for _, r := range tree.Rows {
		if len(r) > 0 {
			lines = append(lines, AsString(r[0]))
		}
	}
	if err := verifyTree(lines, canonical, rs.database()); err != nil {
		return "", err
	}
	return canonical, nil
}

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// astNode is one line of EXPLAIN AST: its depth (one space a level), its kind and the rest.
type astNode struct {
	depth int
	kind  string
	arg   string
}

func parseTree(lines []string) []astNode {
	nodes := make([]astNode, 0, len(lines))
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		t := strings.TrimLeft(l, " ")
		n := astNode{depth: len(l) - len(t)}
		t, _, _ = strings.Cut(t, " (children")
		n.kind, n.arg, _ = strings.Cut(t, " ")
		nodes = append(nodes, n)
	}
	return nodes
}

// verifyTree checks the syntax tree of a canonical statement against the allow lists.
func verifyTree(lines []string, canonical, db string) error {
	nodes := parseTree(lines)
	if len(nodes) == 0 {
		return refuse("the statement has no syntax tree")
	}
	up := strings.ToUpper(canonical)
	switch root := nodes[0]; root.kind {
	case "SelectWithUnionQuery", "DescribeQuery":
	case "ShowTables":
		if !strings.HasPrefix(up, "SHOW TABLES") && !strings.HasPrefix(up, "SHOW FULL TABLES") {
			return refuse("statement not allowed: only SHOW TABLES, SHOW COLUMNS and SHOW CREATE TABLE")
		}
		for _, n := range nodes[1:] {
			if n.kind == "Identifier" && n.depth == 1 && !strings.EqualFold(strings.Trim(n.arg, "`"), db) {
				return refuse("database %s not allowed: ad hoc queries read %s only", n.arg, db)
			}
		}
	case "ShowColumns":
		if err := verifyShowColumns(canonical, db); err != nil {
			return err
		}
	case "ShowCreateTableQuery":
		if !strings.HasPrefix(up, "SHOW CREATE TABLE") {
			return refuse("statement not allowed: only SHOW TABLES, SHOW COLUMNS and SHOW CREATE TABLE")
		}
		if err := checkTable(strings.Join(strings.Fields(root.arg), "."), db); err != nil {
			return err
		}
	case "Explain":
		if len(nodes) < 2 || nodes[1].kind != "SelectWithUnionQuery" && nodes[1].kind != "Set" {
			return refuse("statement not allowed: EXPLAIN only of a SELECT")
		}
		for _, n := range nodes[1:] {
			if n.depth == 1 && n.kind != "SelectWithUnionQuery" {
				return refuse("statement not allowed: EXPLAIN only of a SELECT, without settings")
			}
		}
	default:
		return refuse("statement not allowed: %s is not a read statement", root.kind)
	}
	for i, n := range nodes {
		switch n.kind {
		case "Set":
			return refuse("a SETTINGS clause is not allowed: the server sets the query's limits and read-only mode")
		case "TableIdentifier":
			if err := checkTable(n.arg, db); err != nil {
				return err
			}
		case "Function":
			name := strings.ToLower(n.arg)
			name, _, _ = strings.Cut(name, " ")
			if inTableExpression(nodes, i) {
				if !AllowedTableFunctions[name] {
					return refuse("table function %s not allowed: use a table of %s, or one of numbers, zeros, generate_series, values", name, db)
				}
			} else if readsOutside(name) {
				return refuse("function %s not allowed: it reads outside %s", name, db)
			}
			if isIn(name) {
				// The right operand of IN may name a table: x IN system.users reads it.
				if r := secondArg(nodes, i); r != nil && r.kind == "Identifier" {
					if err := checkTable(r.arg, db); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// readsOutside reports whether the scalar function name (lower case) reads a file, a model or a
// table named in a string, out of reach of the table checks.
func readsOutside(name string) bool {
	switch name {
	case "file", "hascolumnintable", "catboostevaluate", "naivebayesclassifier", "getserversetting", "getmergetreesetting":
		return true
	}
	return strings.HasPrefix(name, "dict") || strings.HasPrefix(name, "joinget")
}

// verifyShowColumns checks SHOW [FULL] COLUMNS FROM t [FROM db], whose tree names nothing.
func verifyShowColumns(canonical, db string) error {
	f := strings.Fields(canonical)
	var names []string
	for i := 0; i+1 < len(f); i++ {
		if u := strings.ToUpper(f[i]); u == "FROM" || u == "IN" {
			names = append(names, f[i+1])
			i++
		}
	}
	switch len(names) {
	case 1:
		return checkTable(names[0], db)
	case 2:
		return checkTable(names[1]+"."+names[0], db)
	}
	return refuse("statement not allowed: SHOW COLUMNS FROM a table")
}

func isIn(name string) bool {
	switch name {
	case "in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin", "globalnotnullin":
		return true
	}
	return false
}

// inTableExpression reports whether nodes[i] is the direct child of a TableExpression.
func inTableExpression(nodes []astNode, i int) bool {
	for j := i - 1; j >= 0; j-- {
		if nodes[j].depth < nodes[i].depth {
			return nodes[j].depth == nodes[i].depth-1 && nodes[j].kind == "TableExpression"
		}
	}
	return false
}

// secondArg returns the second argument of the function at nodes[i]: the second child of its
// ExpressionList.
func secondArg(nodes []astNode, i int) *astNode {
	d := nodes[i].depth
	if i+1 >= len(nodes) || nodes[i+1].depth != d+1 || nodes[i+1].kind != "ExpressionList" {
		return nil
	}
	seen := 0
	for j := i + 2; j < len(nodes) && nodes[j].depth > d+1; j++ {
		if nodes[j].depth == d+2 {
			seen++
			if seen == 2 {
				return &nodes[j]
			}
		}
	}
	return nil
}

// checkTable admits a table named as db.table or table: the store's database, or one of
// AllowedSystemTables.
func checkTable(name, db string) error {
	name, _, _ = strings.Cut(name, " ") // "(alias x)"
	parts := strings.Split(strings.ReplaceAll(name, "`", ""), ".")
	switch len(parts) {
	case 1:
		return nil
	case 2:
		switch {
		case parts[0] == db:
			return nil
		case strings.EqualFold(parts[0], "system"):
			if AllowedSystemTables[strings.ToLower(parts[1])] {
				return nil
			}
			return refuse("system table %s not allowed: only system.tables and system.columns", parts[1])
		}
		return refuse("database %s not allowed: ad hoc queries read %s only", parts[0], db)
	}
	return refuse("table name %s not allowed: name a table as table or database.table", name)
}
