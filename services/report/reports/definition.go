package reports

import (
	"errors"
	"fmt"
	"time"

	"giveback.dev/platform/config"
)

// Definitions turns the configuration's reports list into definitions, reading every delivery's
// secret (an SMTP password, a Slack or Teams URL, a webhook's HMAC key) from its environment
// variable or file. The configuration was validated by config.Load, which refuses a delivery
// without its secret; an error here names the report, the key and the reason all the same.
func Definitions(cfg config.Config) ([]Definition, error) {
	out := make([]Definition, 0, len(cfg.Reports))
	var errs []error
	for _, r := range cfg.Reports {
		d, err := definition(cfg, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errors.Join(errs...)
}

func definition(cfg config.Config, r config.Report) (Definition, error) {
	d := Definition{
		Name: r.Name, Title: r.Title, Owner: r.Owner, Schedule: r.Schedule, Period: r.Period,
		Filter:   Filter{Team: r.Filter.Team, Upstream: r.Filter.Upstream, DependenciesOnly: r.Filter.DependenciesOnly},
		Sections: r.Sections, Targets: r.Targets, People: r.People, Grace: r.Grace.D(),
	}
	if d.Grace == 0 {
		d.Grace = config.DefaultReportGrace
	}
	if cfg.Privacy.AggregateOnly {
		// privacy.aggregate_only shows individuals to no one, in reports too.
		d.People = false
	}
	if r.TimeZone != "" {
		// The definition carries its zone in the schedule, as cron/v3 reads it.
		if _, loc, err := config.ParseReportSchedule(r.Schedule, r.TimeZone); err == nil {
			d.Schedule = "CRON_TZ=" + loc.String() + " " + r.Schedule
		}
	}
	if l := r.Labor; len(l.PerContribution) > 0 || l.PerContributorMonth > 0 {
		d.LaborCost = &LaborCost{Currency: l.Currency, PerKind: l.PerContribution, PerContributorMonth: l.PerContributorMonth}
	}
	secret := func(key, env, file string) (string, error) {
		v, err := config.Secret(env, cfg.Path(file))
		if err == nil && v == "" {
			err = errors.New("no value in the environment variable or the file")
		}
		if err != nil {
			return "", fmt.Errorf("report %q: %s: %w", r.Name, key, err)
		}
		return v, nil
	}
	for i, c := range r.Deliveries {
		del := Delivery{Kind: c.Kind(), Name: c.ID()}
		key := fmt.Sprintf("deliveries[%d].%s", i, del.Kind)
		var err error
		switch {
		case c.SMTP != nil:
			s := c.SMTP
			del.Host, del.Port, del.TLS, del.Username, del.From, del.To, del.Cc = s.Host, s.Port, s.TLS, s.User, s.From, s.To, s.Cc
			if del.TLS == "" {
				del.TLS = "starttls"
			}
			if s.User != "" {
				del.Password, err = secret(key+".password_env", s.PasswordEnv, s.PasswordFile)
			}
		case c.Slack != nil:
			del.URL, err = secret(key+".url_env", c.Slack.URLEnv, c.Slack.URLFile)
		case c.Teams != nil:
			del.URL, err = secret(key+".url_env", c.Teams.URLEnv, c.Teams.URLFile)
		case c.Directory != nil:
			del.Path = cfg.Path(c.Directory.Path)
		case c.Webhook != nil:
			del.URL = c.Webhook.URL
			del.Secret, err = secret(key+".secret_env", c.Webhook.SecretEnv, c.Webhook.SecretFile)
		default:
			err = fmt.Errorf("report %q: deliveries[%d]: no kind", r.Name, i)
		}
		if err != nil {
			return d, err
		}
		d.Deliveries = append(d.Deliveries, del)
	}
	return d, nil
}

// schedule is a definition's parsed schedule and time zone.
func (d Definition) schedule() (cronSchedule, *time.Location, error) {
	s, loc, err := config.ParseReportSchedule(d.Schedule, "")
	if err != nil {
		return nil, nil, fmt.Errorf("report %q: schedule: %w", d.Name, err)
	}
	return s, loc, nil
}
