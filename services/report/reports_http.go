package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"giveback.dev/services/report/reports"
	"giveback.dev/services/report/web"
)

// errNoReports answers the report routes of a server without the reports service.
var errNoReports = errors.New("scheduled reports are not running in this process (reports: in the config, and NATS for the claims)")

// reportList is the answer of GET /api/v1/reports: the state of every report and its archived
// periods.
type reportList struct {
	Reports []reports.Status `json:"reports"`
	Runs    []reports.Run    `json:"runs"`
}

func (s *Server) listReports(ctx context.Context) (reportList, error) {
	out := reportList{Reports: []reports.Status{}, Runs: []reports.Run{}}
	if s.opts.Reports == nil {
		return out, nil
	}
	sts, err := s.opts.Reports.Statuses(ctx)
	if err != nil {
		return out, err
	}
	out.Reports = sts
	if a := s.opts.Reports.Archive(); a != nil {
		runs, err := a.Runs(ctx, "", 500)
		if err != nil {
			return out, err
		}
		out.Runs = runs
	}
	return out, nil
}

// reportsAPI answers GET /api/v1/reports.
func (s *Server) reportsAPI(w http.ResponseWriter, r *http.Request) {
	l, err := s.listReports(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, l)
}

// reportPeriod is the answer of GET /api/v1/reports/{name}/{period}: the state of each
// delivery of a defined report's period and, once generated, its newest archived run.
type reportPeriod struct {
	Name       string                  `json:"name"`
	Period     string                  `json:"period"`
	Deliveries []reports.DeliveryState `json:"deliveries"`
	Run        *reports.Run            `json:"run"` // null until the period is generated
}

// periodOf reads the report and period of the path: a defined report's valid period, or an
// archived one of a report no longer defined. It answers the error itself and returns false.
func (s *Server) periodOf(w http.ResponseWriter, r *http.Request) (reportPeriod, bool) {
	name, period := r.PathValue("name"), r.PathValue("period")
	out := reportPeriod{Name: name, Period: period, Deliveries: []reports.DeliveryState{}}
	if s.opts.Reports == nil {
		s.fail(w, r, http.StatusNotFound, "", errNoReports)
		return out, false
	}
	var err error
	if a := s.opts.Reports.Archive(); a != nil {
		if out.Run, err = a.Get(r.Context(), name, period); err != nil {
			s.fail(w, r, http.StatusInternalServerError, "", err)
			return out, false
		}
	}
	def, ok := s.opts.Reports.Definition(name)
	if !ok {
		if out.Run == nil {
			s.fail(w, r, http.StatusNotFound, "", fmt.Errorf("no report named %q", name))
			return out, false
		}
		return out, true
	}
	p, err := reports.ParsePeriod(def.Period, period, def.Location())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "period", err)
		return out, false
	}
	if out.Deliveries, err = s.opts.Reports.States(r.Context(), def, p); err != nil {
		s.fail(w, r, http.StatusInternalServerError, "", err)
		return out, false
	}
	return out, true
}

// reportAPI answers GET /api/v1/reports/{name}/{period}: the archived run with its numbers and
// every delivery attempt, and the state of each delivery.
func (s *Server) reportAPI(w http.ResponseWriter, r *http.Request) {
	if rp, ok := s.periodOf(w, r); ok {
		s.writeJSON(w, r, http.StatusOK, rp)
	}
}

// runRequest is the body of POST /api/v1/reports/{name}/run.
type runRequest struct {
	Period   string `json:"period"`   // empty: the last due period
	Delivery string `json:"delivery"` // empty: every delivery
	Force    bool   `json:"force"`    // send again where it was sent
}

// runWait is how long POST /api/v1/reports/{name}/run waits for the run before answering 202;
// the run goes on (its retries may take minutes) and its outcome shows on /reports.
const runWait = 20 * time.Second

// runReport answers POST /api/v1/reports/{name}/run (admin): it runs the report now, for one
// delivery or all, again with force.
func (s *Server) runReport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reports == nil {
		s.fail(w, r, http.StatusNotFound, "", errNoReports)
		return
	}
	var req runRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(&req)
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", fmt.Errorf("the body must be JSON {\"period\": \"2026-10\", \"delivery\": \"smtp\", \"force\": true}: %w", err))
		return
	}
	rr := reports.RunRequest{Name: r.PathValue("name"), Period: req.Period, Delivery: req.Delivery, Force: req.Force}
	res, finished, ok := s.startRun(w, r, rr)
	switch {
	case !ok:
	case finished:
		s.writeJSON(w, r, http.StatusOK, res)
	default:
		s.writeJSON(w, r, http.StatusAccepted, map[string]string{"status": "running; see /reports for its outcome"})
	}
}

// startRun checks rr and runs it for the request r, waiting up to runWait: finished says the
// run ended within that wait, with res its outcome; otherwise it goes on (its retries may take
// minutes, and a client that goes away does not cut a send in half). When rr cannot be run or
// the run fails, startRun answers the error itself and returns ok false.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request, rr reports.RunRequest) (res reports.RunResult, finished, ok bool) {
	if _, _, _, err := s.opts.Reports.Resolve(rr); err != nil {
		status := http.StatusBadRequest
		if _, known := s.opts.Reports.Definition(rr.Name); !known {
			status = http.StatusNotFound
		}
		s.fail(w, r, status, "", err)
		return res, false, false
	}
	type outcome struct {
		res reports.RunResult
		err error
	}
	done := make(chan outcome, 1)
	ctx := context.WithoutCancel(r.Context())
	go func() {
		res, err := s.opts.Reports.RunNow(ctx, rr)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			s.fail(w, r, http.StatusInternalServerError, "", o.err)
			return res, false, false
		}
		return o.res, true, true
	case <-time.After(runWait):
		return res, false, true
	}
}

// resendReport answers POST /reports/{name}/{period}/send (admin), the page's "Send again"
// button: a form with the delivery's name. It sends that one delivery of the period again (a
// forced run, which renders the period anew and archives it), then shows the period's page,
// whose attempts table holds the outcome. A run that takes longer than runWait goes on.
func (s *Server) resendReport(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reports == nil {
		s.fail(w, r, http.StatusNotFound, "", errNoReports)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "body", fmt.Errorf("the body must be a form with delivery=NAME: %w", err))
		return
	}
	name, period, delivery := r.PathValue("name"), r.PathValue("period"), r.PostForm.Get("delivery")
	if delivery == "" {
		s.fail(w, r, http.StatusBadRequest, "delivery", errors.New("name the delivery to send again: delivery=NAME"))
		return
	}
	rr := reports.RunRequest{Name: name, Period: period, Delivery: delivery, Force: true}
	if _, _, ok := s.startRun(w, r, rr); !ok {
		return
	}
	// Relative, so that the page is found behind a proxy that serves Giveback under a prefix.
	w.Header().Set("Location", "../"+url.PathEscape(period)+"#attempts")
	w.WriteHeader(http.StatusSeeOther)
}

//go:embed web/assets/reports.html
var reportsHTML string

// reportsPage is the reports list and a period's page, on the dashboard's layout.
var reportsPage = web.NewPage("reports", reportsHTML, template.FuncMap{
	"short": func(s string) string {
		if len(s) <= 280 {
			return s
		}
		cut := strings.LastIndex(s[:280], " ")
		if cut < 0 {
			cut = 280
		}
		return s[:cut] + " …"
	},
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02 15:04 MST")
	},
})

// sendTarget is one delivery the page offers to send again.
type sendTarget struct{ Name, Kind string }

type reportsPageData struct {
	Chrome   web.Chrome
	Statuses []reports.Status
	Runs     []reports.Run
	Run      *reports.Run
	Pending  *reportPeriod // a period not generated yet
	Body     template.HTML
	// Send lists the period's deliveries with a button each (a period's page only).
	Send                 []sendTarget
	SendName, SendPeriod string
}

// reportsChrome is the layout of the reports pages: base leads back to the site root.
func (s *Server) reportsChrome(title, subtitle, base string) web.Chrome {
	return web.Chrome{Company: s.opts.Company, Title: title, Subtitle: subtitle, Active: "reports", Base: base, Nav: s.nav()}
}

// withSend adds the definition's deliveries to a period's page.
func (s *Server) withSend(d reportsPageData, name, period string) reportsPageData {
	def, ok := s.opts.Reports.Definition(name)
	if !ok {
		return d
	}
	for _, dl := range def.Deliveries {
		d.Send = append(d.Send, sendTarget{Name: dl.Name, Kind: dl.Kind})
	}
	d.SendName, d.SendPeriod = name, period
	return d
}

// reportsList answers GET /reports.
func (s *Server) reportsList(w http.ResponseWriter, r *http.Request) {
	l, err := s.listReports(r.Context())
	if err != nil {
		s.log.Error("reports", slog.Any("err", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.render(w, http.StatusOK, "reports", func(b *bytes.Buffer) error {
		return reportsPage.Execute(b, reportsPageData{Chrome: s.reportsChrome("Reports", "The scheduled executive reports, their deliveries and every report generated · times in UTC", "./"),
			Statuses: l.Reports, Runs: l.Runs})
	})
}

var bodyOf = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)

// reportPage answers GET /reports/{name}/{period}: the archived report with its delivery
// attempts (the state of its deliveries before it is generated), or one of its formats with
// ?format=html|pdf|letter|md|csv.
func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
	rp, ok := s.periodOf(w, r)
	if !ok {
		return
	}
	run := rp.Run
	if run == nil {
		if r.URL.Query().Get("format") != "" {
			s.fail(w, r, http.StatusNotFound, "format", fmt.Errorf("%s %s is not generated yet", rp.Name, rp.Period))
			return
		}
		s.render(w, http.StatusOK, "report", func(b *bytes.Buffer) error {
			return reportsPage.Execute(b, s.withSend(reportsPageData{Chrome: s.reportsChrome(rp.Name+" — "+rp.Period, "Not generated yet", "../../"), Pending: &rp}, rp.Name, rp.Period))
		})
		return
	}
	file := "giveback-" + run.Name + "-" + run.Period
	send := func(ctype, ext string, b []byte) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file+ext))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	}
	web := run.WebHTML
	if len(web) == 0 {
		web = run.HTML
	}
	switch f := r.URL.Query().Get("format"); f {
	case "":
	case "html":
		s.writePage(w, http.StatusOK, bytes.NewBuffer(web), "report")
		return
	case "pdf":
		send("application/pdf", ".pdf", run.PDF)
		return
	case "letter":
		send("application/pdf", "-letter.pdf", run.PDFLetter)
		return
	case "md":
		send("text/markdown; charset=utf-8", ".md", run.Markdown)
		return
	case "csv":
		send("text/csv; charset=utf-8", ".csv", run.CSV)
		return
	default:
		s.fail(w, r, http.StatusBadRequest, "format", fmt.Errorf("format %q must be html, pdf, letter, md or csv", f))
		return
	}
	body := web
	if m := bodyOf.FindSubmatch(web); m != nil {
		body = m[1]
	}
	s.render(w, http.StatusOK, "report", func(b *bytes.Buffer) error {
		// The body is the report service's own rendering, escaped when it was made.
		c := s.reportsChrome(run.Title+" — "+run.Period, "The archived report as it was sent, with its delivery attempts", "../../")
		return reportsPage.Execute(b, s.withSend(reportsPageData{Chrome: c, Run: run, Body: template.HTML(body)}, run.Name, run.Period)) // #nosec G203
	})
}
