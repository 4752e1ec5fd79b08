package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"giveback.dev/platform/deps"
)

type dependencyRow struct {
	Repo        string   `json:"repo"`
	Packages    []string `json:"packages"`
	Services    []string `json:"services"`
	Criticality int      `json:"criticality"`
	ImportedAt  string   `json:"imported_at"`
	ImportID    string   `json:"import_id"`
}

type unmappedRow struct {
	ImportID  string `json:"import_id"`
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Service   string `json:"service"`
}

type dependencyImportRow struct {
	ImportID   string `json:"import_id"`
	ImportedAt string `json:"imported_at"`
	Files      int    `json:"files"`
	Packages   int    `json:"packages"`
	Unmapped   int    `json:"unmapped"`
}

// DependencyImport describes one import of the dependency list.
type DependencyImport struct {
	ID         string
	ImportedAt time.Time
	Files      int // files read
	Packages   int // distinct packages, mapped and unmapped
	Unmapped   int // unmapped package entries (per service and version)
}

// insertJSONEachRow writes rows to table in one INSERT.
func (s *Store) insertJSONEachRow(ctx context.Context, table, columns string, n int, row func(i int) any) error {
	if n == 0 {
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString("INSERT INTO " + table + " (" + columns + ") FORMAT JSONEachRow\n")
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		if err := enc.Encode(row(i)); err != nil {
			return fmt.Errorf("store: encode %s row: %w", table, err)
		}
	}
	if err := s.conn.Exec(ctx, buf.String()); err != nil {
		return fmt.Errorf("store: insert %d rows into %s: %w", n, table, err)
	}
	return nil
}

// ImportDependencies makes the repositories the manifests use the current dependency list (one
// import, replacing the previous list), and returns the import's id, the repositories and the
// packages no repository was found for.
func (s *Store) ImportDependencies(ctx context.Context, ms []deps.Manifest) (string, []deps.Dependency, []deps.Unmapped, error) {
	ds, unmapped := deps.Aggregate(ms)
	id, err := newImportID(time.Now())
	if err != nil {
		return "", nil, nil, err
	}
	if err := s.ReplaceDependencies(ctx, id, len(ms), ds, unmapped); err != nil {
		return "", nil, nil, err
	}
	return id, ds, unmapped, nil
}

// newImportID returns the id of a dependency import that sorts by time:
// 20250106T101244.123Z-1a2b3c4d.
func newImportID(now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: import id: %w", err)
	}
	return now.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:]), nil
}

// ReplaceDependencies makes ds and unmapped the current dependency list. It writes them under
// importID, then records the import: until that last insert the previous list stays current,
// and a failure leaves it so. files is the number of files the list was read from. Retrying
// with the same importID is harmless.
func (s *Store) ReplaceDependencies(ctx context.Context, importID string, files int, ds []deps.Dependency, unmapped []deps.Unmapped) error {
	if importID == "" {
		return fmt.Errorf("store: replace dependencies: empty import id")
	}
	at := time.Now().UTC().Format(timeLayout)
	err := s.insertJSONEachRow(ctx, "dependencies", "repo, packages, services, criticality, imported_at, import_id", len(ds), func(i int) any {
		d := &ds[i]
		return &dependencyRow{Repo: d.Repo, Packages: nonNil(d.Packages), Services: nonNil(d.Services), Criticality: d.Criticality, ImportedAt: at, ImportID: importID}
	})
	if err != nil {
		return err
	}
	err = s.insertJSONEachRow(ctx, "unmapped_packages", "import_id, ecosystem, name, version, service", len(unmapped), func(i int) any {
		u := &unmapped[i]
		return &unmappedRow{ImportID: importID, Ecosystem: u.Ecosystem, Name: u.Name, Version: u.Version, Service: u.Service}
	})
	if err != nil {
		return err
	}
	packages := map[string]bool{}
	for _, d := range ds {
		for _, p := range d.Packages {
			packages[p] = true
		}
	}
	for _, u := range unmapped {
		packages[u.Key()] = true
	}
	return s.insertJSONEachRow(ctx, "dependency_imports", "import_id, imported_at, files, packages, unmapped", 1, func(int) any {
		return &dependencyImportRow{ImportID: importID, ImportedAt: at, Files: files, Packages: len(packages), Unmapped: len(unmapped)}
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CurrentDependencies returns the current dependency list as repository (owner/name, lower
// case) → criticality, the number of the company's services that use it. Empty before the
// first import.
func (s *Store) CurrentDependencies(ctx context.Context) (map[string]int, error) {
	res, err := s.conn.Query(ctx, "SELECT repo, criticality FROM current_dependencies", nil)
	if err != nil {
		return nil, fmt.Errorf("store: current dependencies: %w", err)
	}
	out := make(map[string]int, len(res.Rows))
	for _, r := range res.Rows {
		out[AsString(r[0])] = int(AsInt(r[1]))
	}
	return out, nil
}

// ListDependencies returns the current dependency list, most used first, and the import it
// comes from; ok is false before the first import.
func (s *Store) ListDependencies(ctx context.Context) (ds []deps.Dependency, imp DependencyImport, ok bool, err error) {
	res, err := s.conn.Query(ctx, `SELECT import_id, toString(imported_at), files, packages, unmapped FROM dependency_imports FINAL
ORDER BY imported_at DESC, import_id DESC LIMIT 1`, nil)
	if err != nil {
		return nil, imp, false, fmt.Errorf("store: list dependencies: %w", err)
	}
	if len(res.Rows) == 0 {
		return nil, imp, false, nil
	}
	r := res.Rows[0]
	imp = DependencyImport{ID: AsString(r[0]), Files: int(AsInt(r[2])), Packages: int(AsInt(r[3])), Unmapped: int(AsInt(r[4]))}
	if t, err := time.Parse(timeLayout, AsString(r[1])); err == nil {
		imp.ImportedAt = t
	}
	res, err = s.conn.Query(ctx, "SELECT repo, packages, services, criticality FROM current_dependencies ORDER BY criticality DESC, repo", nil)
	if err != nil {
		return nil, imp, true, fmt.Errorf("store: list dependencies: %w", err)
	}
	ds = make([]deps.Dependency, 0, len(res.Rows))
	for _, r := range res.Rows {
		ds = append(ds, deps.Dependency{Repo: AsString(r[0]), Packages: asStrings(r[1]), Services: asStrings(r[2]), Criticality: int(AsInt(r[3]))})
	}
	return ds, imp, true, nil
}

// asStrings reads an Array(String) column value.
func asStrings(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = AsString(x)
	}
	return out
}
