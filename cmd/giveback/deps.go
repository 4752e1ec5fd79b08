package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"giveback.dev/platform/deps"
)

const depsUsage = `Usage:
  giveback deps import [--config FILE] [--clickhouse DSN] [PATH...]
      read SBOMs (CycloneDX JSON or XML, SPDX JSON or tag-value) and manifests (go.mod,
      package-lock.json) from the PATHs (files or directories; default: dependencies.paths of
      the config) and make them the current dependency list, replacing the previous one
  giveback deps list [--config FILE] [--clickhouse DSN] [--limit N]
      print the current dependency list, most used first
`

// cmdDeps imports and lists the repositories the company's services depend on.
func cmdDeps(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := subcommand("deps", depsUsage, []string{"import", "list"}, args, stdout, stderr)
	if err != nil {
		return err
	}
	if sub == "import" {
		return cmdDepsImport(ctx, rest, stdout, stderr)
	}
	return cmdDepsList(ctx, rest, stdout, stderr)
}

func cmdDepsImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("deps import", "deps import [--config FILE] [--clickhouse DSN] [PATH...]", stderr)
	c.register(fs, false, true)
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 0 {
		for _, p := range cfg.Dependencies.Paths {
			paths = append(paths, cfg.Path(p))
		}
	}
	if len(paths) == 0 {
		return errors.New("deps import: no PATH given and dependencies.paths is not set in the config")
	}
	ms, errs := deps.Load(paths)
	for _, e := range errs {
		fmt.Fprintln(stderr, "error:", e)
	}
	if len(ms) == 0 {
		return fmt.Errorf("deps import: no file could be read (%d errors); the current dependency list is unchanged", len(errs))
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	id, ds, unmapped, err := st.ImportDependencies(ctx, ms)
	if err != nil {
		return err
	}
	services, packages := map[string]bool{}, 0
	for _, m := range ms {
		services[m.Service] = true
		packages += len(m.Packages)
	}
	fmt.Fprintf(stdout, "import %s: %d files, %d services, %d packages, %d repositories mapped, %d packages unmapped\n",
		id, len(ms), len(services), packages, len(ds), len(unmapped))
	for _, m := range ms {
		fmt.Fprintf(stdout, "  %s: %s, service %s, %d packages\n", m.Path, m.Format, m.Service, len(m.Packages))
	}
	if len(errs) > 0 {
		return fmt.Errorf("deps import: %d of %d files or paths failed (listed above); the others were imported", len(errs), len(errs)+len(ms))
	}
	return nil
}

func cmdDepsList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("deps list", "deps list [--config FILE] [--clickhouse DSN] [--limit N]", stderr)
	c.register(fs, false, true)
	limit := fs.Int("limit", 0, "print at most N repositories (0: all)")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	ds, imp, ok, err := st.ListDependencies(ctx)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(stdout, "no dependency list imported yet: run giveback deps import PATH...")
		return nil
	}
	fmt.Fprintf(stdout, "import %s at %s: %d files, %d repositories, %d packages unmapped\n",
		imp.ID, imp.ImportedAt.Format(time.RFC3339), imp.Files, len(ds), imp.Unmapped)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CRITICALITY\tREPOSITORY\tSERVICES\tPACKAGES")
	for i, d := range ds {
		if *limit > 0 && i == *limit {
			break
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", d.Criticality, d.Repo, strings.Join(d.Services, ","), strings.Join(d.Packages, ","))
	}
	return tw.Flush()
}
