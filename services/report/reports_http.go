package report

import (
	"bytes"
	"context"
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
	if _, _, _, err := s.opts.Reports.Resolve(rr); err != nil {
		status := http.StatusBadRequest
		if _, ok := s.opts.Reports.Definition(rr.Name); !ok {
			status = http.StatusNotFound
		}
		s.fail(w, r, status, "", err)
		return
	}
	type outcome struct {
		res reports.RunResult
		err error
	}
	done := make(chan outcome, 1)
	// The run outlives the request: a client that goes away does not cut a send in half.
	ctx := context.WithoutCancel(r.Context())
	go func() {
		res, err := s.opts.Reports.RunNow(ctx, rr)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			s.fail(w, r, http.StatusInternalServerError, "", o.err)
			return
		}
		s.writeJSON(w, r, http.StatusOK, o.res)
	case <-time.After(runWait):
		s.writeJSON(w, r, http.StatusAccepted, map[string]string{"status": "running; see /reports for its outcome"})
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
	if _, _, _, err := s.opts.Reports.Resolve(rr); err != nil {
		status := http.StatusBadRequest
		if _, ok := s.opts.Reports.Definition(name); !ok {
			status = http.StatusNotFound
		}
		s.fail(w, r, status, "", err)
		return
	}
	done := make(chan error, 1)
	ctx := context.WithoutCancel(r.Context())
	go func() {
		_, err := s.opts.Reports.RunNow(ctx, rr)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			s.fail(w, r, http.StatusInternalServerError, "", err)
			return
		}
	case <-time.After(runWait):
	}
	http.Redirect(w, r, "/reports/"+url.PathEscape(name)+"/"+url.PathEscape(period)+"#attempts", http.StatusSeeOther)
}

var reportsPage = template.Must(template.New("reports").Funcs(template.FuncMap{
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
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} · Giveback</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2328}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
.bad{color:#b42318;font-weight:600}.ok{color:#1a7f37}.muted{color:#656d76}code{background:#f6f8fa;padding:0 .2rem}
.report{border-top:2px solid #d0d7de;margin-top:1rem;padding-top:1rem}
</style></head><body>
<p><a href="/">Giveback</a> · <a href="/reports">Reports</a></p>
{{if .Pending}}{{with .Pending}}
<h1>{{.Name}} — {{.Period}}</h1>
<p class="muted">Not generated yet.</p>
<table><tr><th>Delivery</th><th>State</th><th>Attempts</th><th>Error</th></tr>
{{range .Deliveries}}<tr><td>{{.Delivery}} ({{.Kind}})</td><td>{{.State}}</td><td>{{.Attempts}}</td><td>{{.Error}}</td></tr>{{end}}</table>
{{end}}{{template "send" .}}{{else if .Run}}{{with .Run}}
<h1>{{.Title}} — {{.Period}}</h1>
<p>{{.PeriodFrom.Format "2006-01-02"}} to {{.PeriodTo.Format "2006-01-02"}} (end excluded), time zone {{.TimeZone}}.
Generated {{ts .GeneratedAt}} by {{.Replica}} ({{.Trigger}}){{if .Late}}, <span class="bad">late: it was due {{ts .Due}}</span>{{end}}.
Numbers hash <code>{{.Hash}}</code>, metric definitions <code>{{.Metrics}}</code>.</p>
<p>Download: <a href="?format=html">HTML</a> · <a href="?format=pdf">PDF (A4)</a> · <a href="?format=letter">PDF (Letter)</a> ·
<a href="?format=md">Markdown</a> · <a href="?format=csv">CSV</a> · <a href="/api/v1/reports/{{.Name}}/{{.Period}}">numbers (JSON)</a></p>
<h2 id="attempts">Delivery attempts</h2>
<table><tr><th>At</th><th>Delivery</th><th>Attempt</th><th>Outcome</th><th>Error</th><th>Replica</th></tr>
{{range .Attempts}}<tr><td>{{ts .At}}</td><td>{{.Delivery}} ({{.Kind}})</td><td>{{.Attempt}}</td>
<td class="{{if eq .Outcome "sent"}}ok{{else}}bad{{end}}">{{.Outcome}}</td><td>{{.Error}}</td><td>{{.Replica}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">No attempt recorded.</td></tr>{{end}}</table>
{{end}}{{template "send" .}}
<div class="report">{{.Body}}</div>
{{else}}
<h1>Scheduled reports</h1>
{{if not .Statuses}}<p class="muted">No report is scheduled. Define them under <code>reports:</code> in the configuration (see giveback.example.yaml).</p>{{end}}
{{if .Statuses}}<table><tr><th>Report</th><th>Schedule</th><th>Next run</th><th>Last due period</th><th>Deliveries</th></tr>
{{range .Statuses}}<tr><td>{{.Title}}<br><span class="muted">{{.Name}}</span></td><td><code>{{.Schedule}}</code></td><td>{{ts .Next}}</td>
<td>{{if .Period}}<a href="/reports/{{.Name}}/{{.Period}}">{{.Period}}</a>, due {{ts .LastDue}}{{end}}{{if .Overdue}} <span class="bad">OVERDUE</span>{{end}}</td>
<td>{{range .Deliveries}}{{.Delivery}}: <span class="{{if eq .State "done"}}ok{{else if eq .State "failed"}}bad{{end}}">{{.State}}</span>{{if .Error}} <span class="muted">({{.Error}})</span>{{end}}<br>{{end}}</td></tr>
{{end}}</table>{{end}}
<h2>Archive</h2>
<table><tr><th>Report</th><th>Period</th><th>Generated</th><th>Trigger</th><th>Summary</th></tr>
{{range .Runs}}<tr><td>{{.Title}}</td><td><a href="/reports/{{.Name}}/{{.Period}}">{{.Period}}</a></td><td>{{ts .GeneratedAt}}{{if .Late}} <span class="bad">late</span>{{end}}</td>
<td>{{.Trigger}}</td><td>{{if .Empty}}<span class="muted">no contribution in the period</span>{{else}}{{short .Summary}}{{end}}</td></tr>
{{else}}<tr><td colspan="5" class="muted">Nothing generated yet.</td></tr>{{end}}</table>
{{end}}
</body></html>
{{define "send"}}{{if .Send}}<h2>Send again</h2>
<p class="muted">Renders the period anew and sends it to one delivery, also one that received it already. The same as
<code>giveback reports run {{.SendName}} --period {{.SendPeriod}} --delivery NAME --force</code>.</p>
<table>{{range .Send}}<tr><td>{{.Name}} ({{.Kind}})</td><td><form method="post" action="/reports/{{$.SendName}}/{{$.SendPeriod}}/send">
<input type="hidden" name="delivery" value="{{.Name}}"><button type="submit">Send {{.Name}} again</button></form></td></tr>{{end}}</table>{{end}}{{end}}`))

// sendTarget is one delivery the page offers to send again.
type sendTarget struct{ Name, Kind string }

type reportsPageData struct {
	Title    string
	Statuses []reports.Status
	Runs     []reports.Run
	Run      *reports.Run
	Pending  *reportPeriod // a period not generated yet
	Body     template.HTML
	// Send lists the period's deliveries with a button each (a period's page only).
	Send                 []sendTarget
	SendName, SendPeriod string
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
		return reportsPage.Execute(b, reportsPageData{Title: "Reports", Statuses: l.Reports, Runs: l.Runs})
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
			return reportsPage.Execute(b, s.withSend(reportsPageData{Title: rp.Name + " " + rp.Period, Pending: &rp}, rp.Name, rp.Period))
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
		return reportsPage.Execute(b, s.withSend(reportsPageData{Title: run.Title + " " + run.Period, Run: run, Body: template.HTML(body)}, run.Name, run.Period)) // #nosec G203
	})
}
