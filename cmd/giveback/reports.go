package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/store"
	"giveback.dev/services/report"
	"giveback.dev/services/report/metrics"
	"giveback.dev/services/report/reports"
)

const reportsUsage = `Usage:
  giveback reports list [--config FILE] [--nats URL] [--data DIR]
  giveback reports run NAME [--period 2026-10] [--to FILE|DIR] [--force] [--delivery NAME] [--config FILE]
  giveback reports check --config FILE`

// cmdReports runs `giveback reports`: it lists the scheduled reports and the state of their
// last due period, runs one now (rendering it to a file or directory with --to, delivering it
// otherwise, once per delivery unless --force), or checks the definitions without starting
// anything.
func cmdReports(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := subcommand("reports", reportsUsage, []string{"list", "run", "check"}, args, stdout, stderr)
	if err != nil {
		return err
	}
	var c common
	fs := newFlags("reports "+sub, "reports "+sub+" [flags]", stderr)
	switch sub {
	case "list", "run":
		c.register(fs, true, true)
	case "check":
		c.register(fs, false, false)
	}
	period := fs.String("period", "", "run: the period, as 2026-10, 2026-W42, 2026-Q3, 2026 or 2026-10-01..2026-10-30 (default: the last due period)")
	to := fs.String("to", "", "run: render into this directory, or into this file (.html, .pdf, .md, .csv, .txt, .json), and deliver nothing")
	force := fs.Bool("force", false, "run: deliver again where the period was delivered already")
	only := fs.String("delivery", "", "run: deliver to this delivery of the report only")
	names, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	defs, err := reports.Definitions(cfg)
	if err != nil {
		return err
	}
	switch sub {
	case "check":
		return checkReports(defs, publicURL(cfg), cfg.HTTP.PublicURL == "", time.Now(), stdout)
	case "list":
		return listReports(ctx, cfg, defs, stdout, log)
	}
	if len(names) != 1 {
		return errors.New("reports run: give the name of one report")
	}
	return runReport(ctx, cfg, defs, reports.RunRequest{Name: names[0], Period: *period, Force: *force, Delivery: *only}, *to, stdout, log)
}

// checkReports prints each report's next five run times in its time zone, and where the
// reports' links lead (links; local when http.public_url is unset).
func checkReports(defs []reports.Definition, links string, local bool, now time.Time, stdout io.Writer) error {
	if len(defs) == 0 {
		fmt.Fprintln(stdout, "no reports defined (reports: in the config)")
		return nil
	}
	for _, d := range defs {
		runs, err := d.NextRuns(now, 5)
		if err != nil {
			return err
		}
		var kinds []string
		for _, del := range d.Deliveries {
			kinds = append(kinds, del.Name)
		}
		fmt.Fprintf(stdout, "%s (%s): %s, period %s, deliveries %s\n", d.Name, d.Title, d.Schedule, d.Period, strings.Join(kinds, ", "))
		for _, r := range runs {
			p, err := reports.PeriodFor(d.Period, r, d.Location())
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  %s  covers %s\n", r.Format("2006-01-02 15:04 MST (Mon)"), p.Label)
		}
	}
	if local {
		fmt.Fprintf(stdout, "links lead to %s, which only this machine opens: set http.public_url to the address people reach the dashboard at\n", links)
	} else {
		fmt.Fprintf(stdout, "links lead to %s\n", links)
	}
	fmt.Fprintf(stdout, "%d report(s) OK\n", len(defs))
	return nil
}

// listReports prints the reports and, when NATS answers, the state of each delivery of their
// last due period.
func listReports(ctx context.Context, cfg config.Config, defs []reports.Definition, stdout io.Writer, log *slog.Logger) error {
	var svc *reports.Service
	if cfg.NATS.URL != "" {
		nc, js, err := connectBus(ctx, cfg, "reports")
		if err != nil {
			return err
		}
		defer bus.Drain(nc, 10*time.Second)
		if svc, err = newReportService(ctx, cfg, defs, nil, js, nil, log); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tNEXT RUN\tLAST PERIOD\tDELIVERIES")
	if svc == nil {
		for _, d := range defs {
			next, err := d.NextRuns(time.Now(), 1)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t(nats.url not set)\n", d.Name, d.Schedule, next[0].Format(time.RFC3339))
		}
		return tw.Flush()
	}
	sts, err := svc.Statuses(ctx)
	if err != nil {
		return err
	}
	for _, s := range sts {
		var ds []string
		for _, d := range s.Deliveries {
			ds = append(ds, d.Delivery+"="+d.State)
		}
		period := s.Period
		if s.Overdue {
			period += " OVERDUE"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Schedule, s.Next.Format(time.RFC3339), period, strings.Join(ds, " "))
	}
	return tw.Flush()
}

// runReport builds one report now: into --to, or delivered through the claims like a scheduled
// run.
func runReport(ctx context.Context, cfg config.Config, defs []reports.Definition, req reports.RunRequest, to string, stdout io.Writer, log *slog.Logger) error {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if to != "" {
		return renderReport(ctx, cfg, defs, st, req, to, stdout)
	}
	if cfg.NATS.URL == "" {
		return errors.New("reports run: delivering needs nats.url (the claims that send each report once are kept in NATS); give --to to render only")
	}
	nc, js, err := connectBus(ctx, cfg, "reports")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	svc, err := newReportService(ctx, cfg, defs, st, js, nil, log)
	if err != nil {
		return err
	}
	res, err := svc.RunNow(ctx, req)
	if err != nil {
		return err
	}
	failed := 0
	for _, d := range res.Deliveries {
		fmt.Fprintf(stdout, "%s %s %s: %s (%d attempts) %s\n", res.Name, res.Period, d.Delivery, d.Outcome, d.Attempts, d.Error)
		if d.Outcome == reports.OutcomeFailed || d.Outcome == "lost" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("reports run: %d deliveries failed", failed)
	}
	return nil
}

// renderReport builds the report and writes it into a directory (every format) or one file
// (the format its extension names), delivering nothing.
func renderReport(ctx context.Context, cfg config.Config, defs []reports.Definition, st *store.Store, req reports.RunRequest, to string, stdout io.Writer) error {
	var def reports.Definition
	for _, d := range defs {
		if d.Name == req.Name {
			def = d
		}
	}
	if def.Name == "" {
		return fmt.Errorf("reports run: no report named %q", req.Name)
	}
	loc := def.Location()
	var p reports.Period
	var err error
	if req.Period == "" {
		last := def.LastDue(time.Now())
		if last.IsZero() {
			return fmt.Errorf("reports run: %s has not been due yet; give --period", def.Name)
		}
		p, err = reports.PeriodFor(def.Period, last, loc)
	} else {
		p, err = reports.ParsePeriod(def.Period, req.Period, loc)
	}
	if err != nil {
		return fmt.Errorf("reports run: --period: %w", err)
	}
	affiliate, err := reportAffiliate(cfg)
	if err != nil {
		return err
	}
	rep, err := reports.BuildWith(ctx, st, def, p, time.Now(), reports.Options{BaseURL: publicURL(cfg), Affiliate: affiliate})
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(to))
	if ext == "" {
		if err := reports.WriteDirectory(to, rep); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s written to %s\n", def.Name, p.Label, to)
		return nil
	}
	files, err := reports.DirectoryFiles(rep)
	if err != nil {
		return err
	}
	name := map[string]string{".html": "report.html", ".pdf": "report.pdf", ".md": "report.md", ".csv": "report.csv", ".txt": "report.txt", ".json": "numbers.json"}[ext]
	if name == "" {
		return fmt.Errorf("reports run: --to %s: a directory, or a file ending in .html, .pdf, .md, .csv, .txt or .json", to)
	}
	if err := os.WriteFile(to, files[name], 0o640); err != nil {
		return fmt.Errorf("reports run: %w", err)
	}
	fmt.Fprintf(stdout, "%s %s written to %s\n", def.Name, p.Label, to)
	return nil
}

// reportAffiliate is the organizations of outside contributors the reports count with, from
// identities.affiliations as the dashboard reads it; nil when none is configured.
func reportAffiliate(cfg config.Config) (metrics.Affiliate, error) {
	p := cfg.Identities.Affiliations
	if p == "" {
		return nil, nil
	}
	af, err := report.LoadAffiliations(cfg.Path(p))
	if err != nil {
		return nil, err
	}
	return af.Affiliate(cfg.Company.Name), nil
}

// publicURL is the dashboard's address as the reports link to it: http.public_url, else
// http.addr with a wildcard host written as localhost.
func publicURL(cfg config.Config) string {
	if cfg.HTTP.PublicURL != "" {
		return cfg.HTTP.PublicURL
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// newReportService is the one way the reports service is built from the configuration, by
// `giveback report`, `giveback up` and `giveback reports`; st nil builds no report (list).
func newReportService(ctx context.Context, cfg config.Config, defs []reports.Definition, st *store.Store, js jetstream.JetStream, reg prometheus.Registerer, log *slog.Logger) (*reports.Service, error) {
	kv, err := reports.OpenClaims(ctx, js, cfg.NATS.Replicas)
	if err != nil {
		return nil, err
	}
	affiliate, err := reportAffiliate(cfg)
	if err != nil {
		return nil, err
	}
	o := reports.ServiceOptions{Definitions: defs, Store: st, Claims: kv, Registry: reg, Log: log, BaseURL: publicURL(cfg), Affiliate: affiliate}
	if st == nil {
		o.Build = func(context.Context, reports.Definition, reports.Period, time.Time, reports.Options) (*reports.Report, error) {
			return nil, errors.New("this command builds no report")
		}
	}
	return reports.NewService(o)
}

// startReports builds the reports service that runs inside `giveback report` and `giveback up`;
// nil when the configuration defines no report. The claims that send each report once live in
// NATS, so reports need it.
func startReports(ctx context.Context, cfg config.Config, st *store.Store, js jetstream.JetStream, reg prometheus.Registerer, log *slog.Logger) (*reports.Service, error) {
	if len(cfg.Reports) == 0 {
		return nil, nil
	}
	if js == nil {
		return nil, errors.New("reports: scheduled reports need nats.url: the claims that send each report once are kept in NATS")
	}
	defs, err := reports.Definitions(cfg)
	if err != nil {
		return nil, err
	}
	return newReportService(ctx, cfg, defs, st, js, reg, log)
}

// withReports mounts the reports service on the report server (nil mounts none).
func withReports(svc *reports.Service) func(*report.Options) {
	return func(o *report.Options) { o.Reports = svc }
}

// runReportsAfter runs the reports service once first has returned (the demo's backfill) and
// settle has waited (for enrich to store what the backfill published), so that the demo's first
// report has the data.
func runReportsAfter(first func(context.Context) error, svc *reports.Service, settle func(context.Context)) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := first(ctx); err != nil {
			return err
		}
		settle(ctx)
		if ctx.Err() != nil {
			return nil
		}
		return svc.Run(ctx)
	}
}

// demoReport defines the demo's monthly report, delivered to DATA/demo/reports and, as a mail,
// to an SMTP capture in the process that keeps each message in DATA/demo/mail: a newcomer sees
// a report at /reports on the first start, and nothing leaves the machine.
func demoReport(cfg *config.Config, dir string) (*reports.Capture, error) {
	capture, err := reports.StartCapture(filepath.Join(dir, "mail"))
	if err != nil {
		return nil, err
	}
	host, port := capture.Addr()
	cfg.Reports = append(cfg.Reports, config.Report{
		Name: "demo-monthly", Title: cfg.Company.Name + " — monthly give-back report", Schedule: "@monthly",
		Period: reports.PeriodPreviousMonth, Grace: config.Duration(6 * time.Hour),
		Targets: map[string]float64{reports.TargetGiveBackCoverage: 0.4, reports.TargetUpstreamPRsMerged: 100},
		Deliveries: []config.ReportDelivery{
			{Directory: &config.DirectoryDelivery{Path: filepath.Join(dir, "reports")}},
			{SMTP: &config.SMTPDelivery{Host: host, Port: port, TLS: "none", From: "giveback@demo.invalid", To: []string{"cto@demo.invalid"}}},
		},
	})
	return capture, nil
}

// settleFor returns what the reports wait for before their first run: in the demo, until the
// contributions stored stop growing (enrich has stored what the backfill published), 15
// minutes at most; nothing otherwise.
func settleFor(demo bool, st *store.Store, log *slog.Logger) func(context.Context) {
	if !demo {
		return func(context.Context) {}
	}
	return func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
		defer cancel()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		last := int64(-1)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			res, err := st.Query(ctx, "SELECT count() FROM contributions", nil)
			if err != nil || len(res.Rows) != 1 {
				continue
			}
			n := store.AsInt(res.Rows[0][0])
			if n > 0 && n == last {
				log.Info("demo data stored; the demo report runs", slog.Int64("contributions", n))
				return
			}
			last = n
		}
	}
}
