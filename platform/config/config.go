// Package config loads Giveback's one YAML configuration file. Unknown keys and invalid values
// stop the start with an error naming the key; secrets never live in the file, only the names of
// the environment variables or files that hold them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration.
type Config struct {
	Company    Company    `yaml:"company"`
	Roster     string     `yaml:"roster"`
	NATS       NATS       `yaml:"nats"`
	ClickHouse ClickHouse `yaml:"clickhouse"`
	GitHub     GitHub     `yaml:"github"`
	GHArchive  GHArchive  `yaml:"gharchive"`
	HTTP       HTTP       `yaml:"http"`
	Query      Query      `yaml:"query"`
	// Dependencies says where the SBOMs and manifests of the company's services are.
	Dependencies Dependencies `yaml:"dependencies"`
	// Identities says which accounts are bots and which extra logins and e-mails are whose.
	Identities Identities `yaml:"identities"`

	dir string // directory of the file, for relative paths
}

// Company names whose contributions these are.
type Company struct {
	Name         string   `yaml:"name"`
	GitHubOrgs   []string `yaml:"github_orgs"`
	EmailDomains []string `yaml:"email_domains"`
}

// NATS says where the bus is. An empty URL in `giveback up` means the embedded server.
type NATS struct {
	URL        string `yaml:"url"`
	ListenAddr string `yaml:"listen"` // embedded server's client address
	Replicas   int    `yaml:"replicas"`
}

// ClickHouse says where the store is.
type ClickHouse struct {
	DSN      string `yaml:"dsn"` // chdb:///dir or clickhouse://host:9000/db
	Database string `yaml:"database"`
	// DatabaseEngine is the engine the database is created with on a server: empty (Atomic) on
	// one node, Replicated('/clickhouse/databases/giveback', '{shard}', '{replica}') on a cluster,
	// which makes every table of the migrations replicated.
	DatabaseEngine string `yaml:"database_engine"`
	PasswordEnv    string `yaml:"password_env"`
	PasswordFile   string `yaml:"password_file"`
}

// GitHub configures the REST sync and the webhook receiver.
type GitHub struct {
	BaseURL           string   `yaml:"base_url"` // GitHub Enterprise: https://ghe.example.com/api/v3/
	TokenEnv          string   `yaml:"token_env"`
	TokenFile         string   `yaml:"token_file"`
	WebhookSecretEnv  string   `yaml:"webhook_secret_env"`
	WebhookSecretFile string   `yaml:"webhook_secret_file"`
	SyncInterval      Duration `yaml:"sync_interval"`
	SyncSince         string   `yaml:"sync_since"` // YYYY-MM-DD: how far back a first sync reaches
	Sync              bool     `yaml:"sync"`
	// Hydrate fills what trimmed GH Archive events (since 2025-10-07) lack — a pull request's
	// author and merge state, a push's commits — from the REST API, whenever a token is set.
	Hydrate bool `yaml:"hydrate"`
	// App authenticates as a GitHub App installation, a rate limit of its own beside any tokens:
	// app_id, app_installation_id and app_private_key_file (the PEM GitHub generated), all three
	// or none.
	AppID             int64  `yaml:"app_id"`
	AppInstallationID int64  `yaml:"app_installation_id"`
	AppPrivateKeyFile string `yaml:"app_private_key_file"`
}

// HasApp reports whether a GitHub App installation is configured.
func (g GitHub) HasApp() bool {
	return g.AppID != 0 || g.AppInstallationID != 0 || g.AppPrivateKeyFile != ""
}

// GHArchive configures the GH Archive reader.
type GHArchive struct {
	BaseURL  string `yaml:"base_url"`
	Parallel int    `yaml:"parallel"`
	Filter   string `yaml:"filter"` // roster (default): only roster logins and company orgs; all: everything
}

// HTTP configures the one HTTP address.
type HTTP struct {
	Addr            string `yaml:"addr"`
	WebhookMaxBytes int64  `yaml:"webhook_max_bytes"`
}

// Query limits the ad hoc SQL endpoint.
type Query struct {
	MaxRows    int      `yaml:"max_rows"`
	MaxBytes   int64    `yaml:"max_bytes"`
	MaxTime    Duration `yaml:"max_time"`
	MaxRowsOut int      `yaml:"max_rows_out"`
}

// Dependencies configures `giveback deps import` and the classification of repositories.
type Dependencies struct {
	// Paths are SBOM (CycloneDX or SPDX JSON) and manifest (go.mod, package-lock.json) files, or
	// directories to search for them; relative paths are read from the config file's directory.
	Paths []string `yaml:"paths"`
	// Foundations overrides and adds to schemas/foundations/foundations.yaml: GitHub owner,
	// owner/repo or owner prefix ending in * → foundation; an empty foundation removes an entry.
	Foundations map[string]string `yaml:"foundations"`
}

// Identities tunes attribution. Bots are never attributed to an employee (logins ending in
// [bot] are bots anyway); Aliases map a login or commit e-mail onto a roster login, for the
// accounts and addresses the roster does not list.
type Identities struct {
	Bots    []string          `yaml:"bots"`
	Aliases map[string]string `yaml:"aliases"` // login or e-mail → roster login
	// Affiliations is a JSON file of the organizations of GitHub logins in the format of gitdm's
	// github_users.json (objects with "login" and "affiliation"), read by the report service for
	// the Elephant Factor of a project's activity; a relative path is read from the config
	// file's directory. Empty: the actors other than employees are all unaffiliated.
	Affiliations string `yaml:"affiliations"`
}

// Duration is a time.Duration written as "15m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 30s or 15m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Default returns the configuration used when no file is given.
func Default() Config {
	return Config{
		Company:    Company{Name: "Example Corp"},
		NATS:       NATS{ListenAddr: "127.0.0.1:4222", Replicas: 1},
		ClickHouse: ClickHouse{Database: "giveback"},
		GitHub: GitHub{
			BaseURL: "https://api.github.com/", TokenEnv: "GITHUB_TOKEN", WebhookSecretEnv: "GIVEBACK_WEBHOOK_SECRET",
			SyncInterval: Duration(15 * time.Minute), Hydrate: true,
		},
		GHArchive: GHArchive{BaseURL: "https://data.gharchive.org/", Parallel: 2, Filter: "roster"},
		HTTP:      HTTP{Addr: "127.0.0.1:8080", WebhookMaxBytes: 25 << 20},
		Query:     Query{MaxRows: 10_000_000, MaxBytes: 1 << 30, MaxTime: Duration(30 * time.Second), MaxRowsOut: 100_000},
	}
}

// Load reads a file over the defaults; an empty path gives the defaults. The result is validated.
func Load(path string) (Config, error) {
	cfg := Default()
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		cfg.dir = wd
		return cfg, cfg.Validate()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("config %s: %s", path, explain(err))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	cfg.dir = filepath.Dir(abs)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

var fieldNotFound = regexp.MustCompile(`line (\d+): field (\S+) not found in type config\.(\w+)`)

// explain rewrites yaml's messages for unknown keys so they name the key and its section.
func explain(err error) string {
	msg := err.Error()
	return fieldNotFound.ReplaceAllStringFunc(msg, func(m string) string {
		p := fieldNotFound.FindStringSubmatch(m)
		section := map[string]string{"Config": "", "Company": "company.", "NATS": "nats.", "ClickHouse": "clickhouse.",
			"GitHub": "github.", "GHArchive": "gharchive.", "HTTP": "http.", "Query": "query.", "Dependencies": "dependencies.", "Identities": "identities."}[p[3]]
		return fmt.Sprintf("line %s: unknown key %s%s", p[1], section, p[2])
	})
}

var orgName = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

// foundationKey is a GitHub owner, owner/repo, or owner prefix ending in *.
var foundationKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:/[A-Za-z0-9._-]{1,100}|\*)?$`)

// Validate checks every value and names the key of the first ones that are wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if strings.TrimSpace(c.Company.Name) == "" {
		bad("company.name", "must not be empty")
	}
	for i, o := range c.Company.GitHubOrgs {
		if !orgName.MatchString(o) {
			bad(fmt.Sprintf("company.github_orgs[%d]", i), "%q is not a GitHub organization name", o)
		}
	}
	for i, d := range c.Company.EmailDomains {
		if d == "" || strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
			bad(fmt.Sprintf("company.email_domains[%d]", i), "%q is not a domain such as example.com", d)
		}
	}
	if c.NATS.URL != "" {
		if u, err := url.Parse(c.NATS.URL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			bad("nats.url", "%q must be nats://host:4222", c.NATS.URL)
		}
	}
	if _, _, err := net.SplitHostPort(c.NATS.ListenAddr); err != nil {
		bad("nats.listen", "%q must be host:port", c.NATS.ListenAddr)
	}
	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		bad("nats.replicas", "%d must be between 1 and 5", c.NATS.Replicas)
	}
	if c.ClickHouse.DSN != "" {
		u, err := url.Parse(c.ClickHouse.DSN)
		if err != nil || (u.Scheme != "chdb" && u.Scheme != "clickhouse" && u.Scheme != "tcp" && u.Scheme != "http" && u.Scheme != "https") {
			bad("clickhouse.dsn", "%q must be chdb:///path or clickhouse://host:9000/db", c.ClickHouse.DSN)
		}
		if u != nil && u.User != nil {
			if _, has := u.User.Password(); has {
				bad("clickhouse.dsn", "must not hold a password; use clickhouse.password_env or clickhouse.password_file")
			}
		}
	}
	if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(c.ClickHouse.Database) {
		bad("clickhouse.database", "%q must be a plain identifier", c.ClickHouse.Database)
	}
	if e := c.ClickHouse.DatabaseEngine; e != "" && e != "Atomic" && !regexp.MustCompile(`^Replicated\('[^']*', '[^']*', '[^']*'\)$`).MatchString(e) {
		bad("clickhouse.database_engine", "%q must be empty, Atomic or Replicated('/path', '{shard}', '{replica}')", e)
	}
	if u, err := url.Parse(c.GitHub.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("github.base_url", "%q must be an http(s) URL such as https://api.github.com/", c.GitHub.BaseURL)
	}
	if c.GitHub.SyncInterval.D() < time.Minute {
		bad("github.sync_interval", "%s must be at least 1m", c.GitHub.SyncInterval.D())
	}
	if c.GitHub.SyncSince != "" {
		if _, err := time.Parse(time.DateOnly, c.GitHub.SyncSince); err != nil {
			bad("github.sync_since", "%q must be YYYY-MM-DD", c.GitHub.SyncSince)
		}
	}
	if g := c.GitHub; g.HasApp() {
		switch {
		case g.AppID <= 0:
			bad("github.app_id", "must be the GitHub App's id (a positive number) when app_installation_id or app_private_key_file is set")
		case g.AppInstallationID <= 0:
			bad("github.app_installation_id", "must be the installation's id (a positive number) when app_id is set")
		case g.AppPrivateKeyFile == "":
			bad("github.app_private_key_file", "must name the app's private key (PEM) when app_id is set")
		default:
			if _, err := os.Stat(c.Path(g.AppPrivateKeyFile)); err != nil {
				bad("github.app_private_key_file", "%v", err)
			}
		}
	}
	if c.GHArchive.Parallel < 1 || c.GHArchive.Parallel > 64 {
		bad("gharchive.parallel", "%d must be between 1 and 64", c.GHArchive.Parallel)
	}
	if c.GHArchive.Filter != "roster" && c.GHArchive.Filter != "all" {
		bad("gharchive.filter", "%q must be roster or all", c.GHArchive.Filter)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "%q must be host:port", c.HTTP.Addr)
	}
	if c.HTTP.WebhookMaxBytes < 1024 {
		bad("http.webhook_max_bytes", "%d must be at least 1024", c.HTTP.WebhookMaxBytes)
	}
	if c.Query.MaxRows < 1 || c.Query.MaxBytes < 1 || c.Query.MaxTime.D() < time.Second || c.Query.MaxRowsOut < 1 {
		bad("query", "max_rows, max_bytes, max_rows_out must be positive and max_time at least 1s")
	}
	for i, p := range c.Dependencies.Paths {
		if strings.TrimSpace(p) == "" {
			bad(fmt.Sprintf("dependencies.paths[%d]", i), "must not be empty")
		}
	}
	for k, v := range c.Dependencies.Foundations {
		if !foundationKey.MatchString(k) {
			bad("dependencies.foundations", "%q is not a GitHub owner, owner/repo or owner prefix ending in *", k)
		}
		if strings.TrimSpace(v) != v {
			bad("dependencies.foundations."+k, "%q has leading or trailing spaces", v)
		}
	}
	for i, b := range c.Identities.Bots {
		if strings.TrimSpace(b) == "" || strings.ContainsAny(b, " \t") {
			bad(fmt.Sprintf("identities.bots[%d]", i), "%q is not a GitHub login", b)
		}
	}
	for k, v := range c.Identities.Aliases {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " \t") {
			bad("identities.aliases", "%q is not a login or e-mail", k)
		}
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t@") {
			bad("identities.aliases."+k, "%q must be a roster login", v)
		}
	}
	if c.Roster != "" {
		if _, err := os.Stat(c.Path(c.Roster)); err != nil {
			bad("roster", "%v", err)
		}
	}
	if c.Identities.Affiliations != "" {
		if _, err := os.Stat(c.Path(c.Identities.Affiliations)); err != nil {
			bad("identities.affiliations", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// Path resolves a path from the file against the file's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Secret reads a secret from the named environment variable, or else from the named file.
// It returns "" when neither is set.
func Secret(env, file string) (string, error) {
	if env != "" {
		if v := os.Getenv(env); v != "" {
			return v, nil
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("config: secret file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// IsCompanyOrg reports whether owner is one of the company's GitHub orgs (case-insensitive).
func (c *Company) IsCompanyOrg(owner string) bool {
	for _, o := range c.GitHubOrgs {
		if strings.EqualFold(o, owner) {
			return true
		}
	}
	return false
}
