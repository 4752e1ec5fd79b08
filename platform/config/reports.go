package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Report is one scheduled executive report (the reports: list): what it shows, for which
// period and filter, when it is due, and where it goes.
type Report struct {
	// Name identifies the report in URLs, commands and the archive: lower case letters, digits
	// and dashes.
	Name  string `yaml:"name"`
	Title string `yaml:"title"`
	// Owner is the e-mail address told when the report is overdue (through the report's first
	// smtp delivery's server).
	Owner string `yaml:"owner"`
	// Schedule is a cron expression of five fields or a descriptor (@hourly, @daily, @weekly,
	// @monthly, @yearly), optionally prefixed by CRON_TZ=Zone; the zone is the report's time zone.
	Schedule string `yaml:"schedule"`
	// TimeZone is the report's time zone when Schedule names none (default UTC).
	TimeZone string `yaml:"time_zone"`
	// Period is previous_week, previous_month, previous_quarter, previous_year or trailing_Nd,
	// computed in the report's time zone from the instant the report is due.
	Period string `yaml:"period"`
	// Filter narrows the contributions counted.
	Filter ReportFilter `yaml:"filter"`
	// Sections are shown in this order; empty shows every section of ReportSections (labor only
	// when labor costs are set).
	Sections []string `yaml:"sections"`
	// Targets are per-period goals of the headline numbers (ReportTargets names them).
	Targets map[string]float64 `yaml:"targets"`
	// People lets the report name individuals (opted-out people never appear).
	People bool `yaml:"people"`
	// Grace is how long after its due time a report may still be undelivered before it is
	// flagged overdue (default 6h).
	Grace Duration `yaml:"grace"`
	// Labor configures the labor investment estimate (section labor).
	Labor ReportLabor `yaml:"labor"`
	// Deliveries are where the report goes; each holds exactly one of its kinds.
	Deliveries []ReportDelivery `yaml:"deliveries"`
}

// ReportFilter narrows a report to a team, to upstream contributions, or to the company's
// dependencies.
type ReportFilter struct {
	Team string `yaml:"team"`
	// Upstream is 1 (third-party repositories only, the default), 0 or all.
	Upstream string `yaml:"upstream"`
	// DependenciesOnly counts only contributions to the company's dependencies.
	DependenciesOnly bool `yaml:"dependencies_only"`
}

// ReportLabor is the configured cost of upstream work, for the CHAOSS Labor Investment
// estimate: a cost per contribution kind, or per active contributor-month.
type ReportLabor struct {
	Currency            string             `yaml:"currency"`
	PerContribution     map[string]float64 `yaml:"per_contribution"`
	PerContributorMonth float64            `yaml:"per_contributor_month"`
}

// ReportDelivery is one destination of a report: exactly one of SMTP, Slack, Teams, Directory
// and Webhook. Name tells two deliveries of one kind apart; it defaults to the kind.
type ReportDelivery struct {
	Name      string             `yaml:"name"`
	SMTP      *SMTPDelivery      `yaml:"smtp"`
	Slack     *ChatDelivery      `yaml:"slack"`
	Teams     *ChatDelivery      `yaml:"teams"`
	Directory *DirectoryDelivery `yaml:"directory"`
	Webhook   *WebhookDelivery   `yaml:"webhook"`
}

// SMTPDelivery sends the report as an HTML e-mail with a plain-text alternative.
type SMTPDelivery struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// TLS is starttls (the default), implicit (TLS from the first byte, port 465) or none
	// (only to a server on a loopback address).
	TLS  string `yaml:"tls"`
	User string `yaml:"user"`
	// PasswordEnv or PasswordFile holds the password of User; required when User is set.
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	Cc           []string `yaml:"cc"`
	// Timeout bounds one attempt (default 30s).
	Timeout Duration `yaml:"timeout"`
}

// ChatDelivery posts the report's summary to a Slack or Microsoft Teams incoming webhook whose
// URL, a secret, is held by URLEnv or URLFile.
type ChatDelivery struct {
	URLEnv  string `yaml:"url_env"`
	URLFile string `yaml:"url_file"`
}

// DirectoryDelivery writes the report's files (HTML, PDF, Markdown, CSV, numbers as JSON) to
// Path/<name>/<period>/; a relative path is read from the config file's directory.
type DirectoryDelivery struct {
	Path string `yaml:"path"`
}

// WebhookDelivery POSTs the report's numbers as JSON to URL, signed with HMAC-SHA256 of the
// body under the secret of SecretEnv or SecretFile (header X-Giveback-Signature-256).
type WebhookDelivery struct {
	URL        string `yaml:"url"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

// Kind names the delivery's kind: smtp, slack, teams, directory or webhook; "" when none is set.
func (d ReportDelivery) Kind() string {
	switch {
	case d.SMTP != nil:
		return "smtp"
	case d.Slack != nil:
		return "slack"
	case d.Teams != nil:
		return "teams"
	case d.Directory != nil:
		return "directory"
	case d.Webhook != nil:
		return "webhook"
	}
	return ""
}

// ID is the delivery's name, or its kind when it has none.
func (d ReportDelivery) ID() string {
	if d.Name != "" {
		return d.Name
	}
	return d.Kind()
}

// ReportSections is the catalogue of sections, in the order a report shows them when its
// definition lists none (the report service's catalogue is this one).
var ReportSections = []string{"narrative", "headline", "trends", "highlights", "cycle", "risks", "teams", "labor", "recommendations"}

// ReportTargets are the headline numbers a report may set a per-period target for.
var ReportTargets = []string{
	"upstream_contributions", "upstream_prs_merged", "active_contributors", "upstream_projects",
	"acceptance_ratio", "first_response_hours", "merge_hours", "give_back_coverage",
}

// ReportPeriods are the fixed periods; trailing_Nd (1 ≤ N ≤ 366) is the other form.
var ReportPeriods = []string{"previous_week", "previous_month", "previous_quarter", "previous_year"}

// DefaultReportGrace is the grace period of a report that sets none.
const DefaultReportGrace = 6 * time.Hour

var (
	reportName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62})$`)
	trailing   = regexp.MustCompile(`^trailing_([0-9]{1,3})d$`)
)

// TrailingDays returns N of a trailing_Nd period, and false for any other period.
func TrailingDays(period string) (int, bool) {
	m := trailing.FindStringSubmatch(period)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > 366 {
		return 0, false
	}
	return n, true
}

// ParseReportSchedule reads a report's schedule with its default zone (tz, "" for UTC) and
// returns the cron schedule and the report's time zone. A CRON_TZ= or TZ= prefix in the
// schedule wins over tz; both naming different zones is an error.
func ParseReportSchedule(spec, tz string) (cron.Schedule, *time.Location, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil, errors.New("must not be empty: give a cron expression such as \"0 8 1 * *\" or a descriptor such as @monthly")
	}
	zone := tz
	if strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=") {
		prefix, _, _ := strings.Cut(spec, " ")
		_, named, _ := strings.Cut(prefix, "=")
		if tz != "" && tz != named {
			return nil, nil, fmt.Errorf("names time zone %s but time_zone is %s: give one", named, tz)
		}
		zone = named
	} else if tz != "" {
		spec = "CRON_TZ=" + tz + " " + spec
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, nil, fmt.Errorf("unknown time zone %q", zone)
	}
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=UTC " + spec
	}
	if strings.Contains(spec, "@every") {
		return nil, nil, errors.New("@every counts from each replica's start, so replicas would not agree on the due time: give a cron expression or @hourly, @daily, @weekly, @monthly")
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%q is not a cron expression of five fields or a descriptor such as @monthly: %v", spec, err)
	}
	// A schedule that never fires (30 February) makes cron/v3 answer the zero time.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, nil, fmt.Errorf("%q never fires", spec)
	}
	return s, loc, nil
}

// validateReports checks the reports: list; each error names the report, the key and the reason.
func (c *Config) validateReports() []error {
	var errs []error
	names := map[string]bool{}
	for i := range c.Reports {
		r := &c.Reports[i]
		label := fmt.Sprintf("reports[%d]", i)
		if r.Name != "" {
			label = fmt.Sprintf("report %q", r.Name)
		}
		bad := func(key, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s: %s", label, key, fmt.Sprintf(format, args...)))
		}
		switch {
		case !reportName.MatchString(r.Name):
			bad("name", "%q must be lower case letters, digits and dashes (at most 63)", r.Name)
		case names[r.Name]:
			bad("name", "is used by another report")
		}
		names[r.Name] = true
		if strings.TrimSpace(r.Title) == "" {
			bad("title", "must not be empty")
		}
		if r.Owner != "" {
			if _, err := mail.ParseAddress(r.Owner); err != nil {
				bad("owner", "%q is not an e-mail address", r.Owner)
			}
		}
		if _, _, err := ParseReportSchedule(r.Schedule, r.TimeZone); err != nil {
			bad("schedule", "%v", err)
		}
		if _, ok := TrailingDays(r.Period); !ok && !contains(ReportPeriods, r.Period) {
			bad("period", "%q must be one of %s or trailing_Nd (N from 1 to 366)", r.Period, strings.Join(ReportPeriods, ", "))
		}
		switch strings.ToLower(r.Filter.Upstream) {
		case "", "1", "0", "all", "true", "false", "yes", "no":
		default:
			bad("filter.upstream", "%q must be 1, 0 or all", r.Filter.Upstream)
		}
		if len(r.Filter.Team) > 200 {
			bad("filter.team", "longer than 200 bytes")
		}
		seen := map[string]bool{}
		for j, s := range r.Sections {
			if !contains(ReportSections, s) {
				bad(fmt.Sprintf("sections[%d]", j), "unknown section %q; the sections are %s", s, strings.Join(ReportSections, ", "))
			} else if seen[s] {
				bad(fmt.Sprintf("sections[%d]", j), "%q is listed twice", s)
			}
			seen[s] = true
		}
		for k, v := range r.Targets {
			if !contains(ReportTargets, k) {
				bad("targets."+k, "unknown target; the targets are %s", strings.Join(ReportTargets, ", "))
			} else if v < 0 || (strings.HasSuffix(k, "_ratio") || k == "give_back_coverage") && v > 1 {
				bad("targets."+k, "%v must be a count, hours, or a ratio between 0 and 1", v)
			}
		}
		if r.Grace.D() < 0 {
			bad("grace", "must not be negative")
		}
		for k, v := range r.Labor.PerContribution {
			if v < 0 {
				bad("labor.per_contribution."+k, "must not be negative")
			}
		}
		if r.Labor.PerContributorMonth < 0 {
			bad("labor.per_contributor_month", "must not be negative")
		}
		if len(r.Deliveries) == 0 {
			bad("deliveries", "must list at least one delivery (smtp, slack, teams, directory or webhook)")
		}
		ids := map[string]bool{}
		for j, d := range r.Deliveries {
			key := fmt.Sprintf("deliveries[%d]", j)
			if n := d.kinds(); n != 1 {
				bad(key, "must hold exactly one of smtp, slack, teams, directory, webhook (it holds %d)", n)
				continue
			}
			if d.Name != "" && !reportName.MatchString(d.Name) {
				bad(key+".name", "%q must be lower case letters, digits and dashes", d.Name)
			}
			if ids[d.ID()] {
				bad(key, "a second %s delivery needs a name of its own", d.ID())
			}
			ids[d.ID()] = true
			for _, e := range c.validateDelivery(d) {
				bad(key+"."+d.Kind()+"."+e.key, "%s", e.reason)
			}
		}
	}
	return errs
}

type keyError struct{ key, reason string }

func (d ReportDelivery) kinds() int {
	n := 0
	for _, set := range []bool{d.SMTP != nil, d.Slack != nil, d.Teams != nil, d.Directory != nil, d.Webhook != nil} {
		if set {
			n++
		}
	}
	return n
}

// validateDelivery checks one delivery, its secrets included: a secret that is not there stops
// the start rather than the first send.
func (c *Config) validateDelivery(d ReportDelivery) []keyError {
	var errs []keyError
	bad := func(key, format string, args ...any) {
		errs = append(errs, keyError{key, fmt.Sprintf(format, args...)})
	}
	secret := func(envKey, env, fileKey, file, what string) {
		if env == "" && file == "" {
			bad(envKey, "%s needs %s or %s", what, envKey, fileKey)
			return
		}
		v, err := Secret(env, c.Path(file))
		switch {
		case err != nil && env != "" && os.Getenv(env) != "":
			bad(envKey, "%v", err)
		case err != nil:
			bad(fileKey, "%v", err)
		case v == "" && env != "":
			bad(envKey, "environment variable %s is not set", env)
		case v == "":
			bad(fileKey, "file %s is empty", file)
		}
	}
	switch {
	case d.SMTP != nil:
		s := d.SMTP
		if s.Host == "" || strings.ContainsAny(s.Host, " /:") {
			bad("host", "%q must be a host name", s.Host)
		}
		if s.Port < 1 || s.Port > 65535 {
			bad("port", "%d must be a port such as 587 (starttls) or 465 (implicit)", s.Port)
		}
		switch s.TLS {
		case "", "starttls", "implicit":
		case "none":
			if ip := net.ParseIP(s.Host); s.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				bad("tls", "none sends the mail and any password in clear: only to a server on this host (localhost, 127.0.0.1); use starttls or implicit")
			}
		default:
			bad("tls", "%q must be starttls, implicit or none", s.TLS)
		}
		if s.User != "" {
			secret("password_env", s.PasswordEnv, "password_file", s.PasswordFile, "user "+s.User)
		}
		if _, err := mail.ParseAddress(s.From); err != nil {
			bad("from", "%q is not an e-mail address", s.From)
		}
		if len(s.To) == 0 {
			bad("to", "must list at least one address")
		}
		for k, list := range map[string][]string{"to": s.To, "cc": s.Cc} {
			for i, a := range list {
				if _, err := mail.ParseAddress(a); err != nil {
					bad(fmt.Sprintf("%s[%d]", k, i), "%q is not an e-mail address", a)
				}
			}
		}
		if s.Timeout.D() < 0 {
			bad("timeout", "must not be negative")
		}
	case d.Slack != nil:
		secret("url_env", d.Slack.URLEnv, "url_file", d.Slack.URLFile, "the incoming webhook URL")
	case d.Teams != nil:
		secret("url_env", d.Teams.URLEnv, "url_file", d.Teams.URLFile, "the incoming webhook URL")
	case d.Directory != nil:
		if strings.TrimSpace(d.Directory.Path) == "" {
			bad("path", "must name a directory")
		}
	case d.Webhook != nil:
		if u, err := url.Parse(d.Webhook.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("url", "%q must be an http(s) URL", d.Webhook.URL)
		}
		secret("secret_env", d.Webhook.SecretEnv, "secret_file", d.Webhook.SecretFile, "the HMAC signature")
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// UnmarshalYAML reads one report and refuses keys it does not know, naming the report, the key
// and its line.
func (r *Report) UnmarshalYAML(n *yaml.Node) error {
	name := ""
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				name = n.Content[i+1].Value
			}
		}
	}
	label := "reports[]"
	if name != "" {
		label = fmt.Sprintf("report %q", name)
	}
	if err := unknownKeys(n, reflect.TypeFor[Report](), ""); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	type plain Report
	if err := n.Decode((*plain)(r)); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return nil
}

// unknownKeys walks a YAML node against the Go type it decodes into and names the first mapping
// key the type has no field for.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag != "" && tag != "-" {
				fields[tag] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return fmt.Errorf("line %d: unknown key %s%s", k.Line, path, k.Value)
			}
			if err := unknownKeys(n.Content[i+1], ft, path+k.Value+"."); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, c := range n.Content {
			if err := unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseReports reads a YAML document holding a reports: list, as in the configuration file, and
// validates it; relative paths are read from dir. It is Load's treatment of the list alone.
func ParseReports(data []byte, dir string) ([]Report, error) {
	var doc struct {
		Reports []Report `yaml:"reports"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, errors.New(explain(err))
	}
	c := Config{Reports: doc.Reports, dir: dir}
	if err := errors.Join(c.validateReports()...); err != nil {
		return nil, err
	}
	return doc.Reports, nil
}
