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
	"strconv"
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
	// Auth says who may reach the HTTP routes and with which role.
	Auth Auth `yaml:"auth"`
	// Privacy says which routes may show individuals.
	Privacy Privacy `yaml:"privacy"`
	// Retention says how long raw records are kept.
	Retention Retention `yaml:"retention"`
	// Reports are the scheduled executive reports (reports.go).
	Reports []Report `yaml:"reports"`

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
	// User is the NATS user to connect as; empty, each command connects as its own service's
	// user (ingest, enrich, report; admin for the administration commands).
	User string `yaml:"user"`
	// PasswordEnv (default GIVEBACK_NATS_PASSWORD) or PasswordFile holds that user's password.
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// CredentialsFile is a JSON object of user to password (the shape `giveback up` writes to
	// DATA/nats/credentials.json); when set, it is used instead of the password.
	CredentialsFile string  `yaml:"credentials_file"`
	TLS             NATSTLS `yaml:"tls"`
}

// NATSTLS configures TLS to NATS: the CA that signed the server's certificate and a client
// certificate, and for the server `giveback up` embeds its certificate and key.
type NATSTLS struct {
	CAFile         string `yaml:"ca_file"`
	CertFile       string `yaml:"cert_file"`
	KeyFile        string `yaml:"key_file"`
	ServerCertFile string `yaml:"server_cert_file"`
	ServerKeyFile  string `yaml:"server_key_file"`
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
	// ReaderUser, on a server, is the read-only user `giveback report` connects as (its profile
	// fixes readonly and bounds the limits; it has grants on the database only). Its password
	// comes from ReaderPasswordEnv or ReaderPasswordFile; the writer's password is then not read.
	// Empty: the report connects as the writer, as on chDB.
	ReaderUser         string `yaml:"reader_user"`
	ReaderPasswordEnv  string `yaml:"reader_password_env"`
	ReaderPasswordFile string `yaml:"reader_password_file"`
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
	// WebhookAddr, when set, is where `giveback ingest` serves the webhook receiver alone,
	// apart from its health and metrics on --addr: only this address need be reachable from
	// GitHub.
	WebhookAddr string `yaml:"webhook_addr"`
	// PublicURL is the address people reach the dashboard at (https://giveback.example.com,
	// behind a proxy under a path too): the links of the scheduled reports start with it.
	// Empty: http://localhost and the port of addr, which only works on the serving machine.
	PublicURL string `yaml:"public_url"`
	// PageStaleness is how long after its rendering began a dashboard page computed from older
	// data may still be served while new data arrives, one render in the background bringing
	// it up to date; every page shows the time of its newest data. 0 renders a page again after
	// every write. At most a minute.
	PageStaleness Duration `yaml:"page_staleness"`
}

// Query limits the ad hoc SQL endpoint.
type Query struct {
	MaxRows    int      `yaml:"max_rows"`
	MaxBytes   int64    `yaml:"max_bytes"`
	MaxTime    Duration `yaml:"max_time"`
	MaxRowsOut int      `yaml:"max_rows_out"`
	// MaxMemory is the memory one ad hoc query may use (max_memory_usage), in bytes.
	MaxMemory int64 `yaml:"max_memory"`
	// MaxThreads is the threads one ad hoc query may use (max_threads).
	MaxThreads int `yaml:"max_threads"`
	// MaxConcurrent is how many ad hoc queries run at once; more are answered 429.
	MaxConcurrent int `yaml:"max_concurrent"`
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

// Auth configures authentication. Mode is none (only when http.addr is a loopback address; the
// caller is then an admin), tokens (API tokens from `giveback tokens create`, sent as
// Authorization: Bearer), oidc (login with an OpenID Connect provider) or proxy (a trusted
// reverse proxy names the user in a header).
type Auth struct {
	Mode string `yaml:"mode"`
	// SessionKeyEnv and SessionKeyFile hold the key that signs session cookies (oidc, and the
	// token login form); without one a random key is drawn at start, so sessions end with the
	// process and are not shared between replicas.
	SessionKeyEnv  string   `yaml:"session_key_env"`
	SessionKeyFile string   `yaml:"session_key_file"`
	SessionTTL     Duration `yaml:"session_ttl"`
	// MetricsAnonymous lets anyone read /metrics (a Prometheus scraper on a private network);
	// otherwise /metrics needs the viewer role.
	MetricsAnonymous bool `yaml:"metrics_anonymous"`
	// AllowedHosts are Host header names accepted besides localhost, 127.0.0.1 and [::1] when
	// http.addr is a loopback address (a tunnel's name, say); others get 421.
	AllowedHosts []string  `yaml:"allowed_hosts"`
	OIDC         OIDC      `yaml:"oidc"`
	Proxy        AuthProxy `yaml:"proxy"`
}

// OIDC configures login with an OpenID Connect provider (authorization code flow).
type OIDC struct {
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is this service's callback as the provider knows it: https://host/auth/callback.
	RedirectURL string   `yaml:"redirect_url"`
	Scopes      []string `yaml:"scopes"`
	// RolesClaim is the ID token claim (a string or a list of strings) mapped through Roles.
	RolesClaim string `yaml:"roles_claim"`
	// Roles maps a value of RolesClaim to viewer, analyst or admin; the highest wins.
	Roles map[string]string `yaml:"roles"`
	// DefaultRole is the role of a user none of whose values maps; empty refuses them.
	DefaultRole string `yaml:"default_role"`
}

// AuthProxy configures a trusted reverse proxy (oauth2-proxy style) that authenticates users
// and names them in headers.
type AuthProxy struct {
	// TrustedCIDRs are the proxy's addresses; the headers of any other peer are ignored.
	TrustedCIDRs []string `yaml:"trusted_cidrs"`
	UserHeader   string   `yaml:"user_header"`
	GroupsHeader string   `yaml:"groups_header"`
	// Roles maps a group to viewer, analyst or admin; the highest wins.
	Roles       map[string]string `yaml:"roles"`
	DefaultRole string            `yaml:"default_role"`
}

// Privacy says what the report service may show of individuals (logins, e-mails, per-person
// status). People lets analysts see them (admins always can); AggregateOnly shows individuals
// to no one, and turns the ad hoc SQL endpoint off.
type Privacy struct {
	People        bool `yaml:"people"`
	AggregateOnly bool `yaml:"aggregate_only"`
}

// Retention says how long raw records are kept; zero keeps them. Contributions and the other
// aggregates keep their whole history.
type Retention struct {
	// RawEvents is the TTL of raw_events, by the time a record was fetched; 0 keeps every record.
	RawEvents Age `yaml:"raw_events"`
	// RawStream is how long raw records stay in the NATS stream GIVEBACK_RAW (default 7d).
	RawStream Age `yaml:"raw_stream"`
}

// Age is a time.Duration written in YAML as whole days ("400d") or as a Go duration ("36h");
// "0" is zero.
type Age time.Duration

// ParseAge reads "400d", a Go duration such as "36h", or "0".
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil || days == "" || days[0] == '+' {
			return 0, fmt.Errorf("%q is not a number of days such as 400d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not an age such as 400d, 36h or 0", s)
	}
	return d, nil
}

// UnmarshalYAML parses an age: whole days, a Go duration, or 0.
func (a *Age) UnmarshalYAML(n *yaml.Node) error {
	d, err := ParseAge(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: retention: %w", n.Line, err)
	}
	*a = Age(d)
	return nil
}

// D returns the time.Duration.
func (a Age) D() time.Duration { return time.Duration(a) }

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
		NATS:       NATS{ListenAddr: "127.0.0.1:4222", Replicas: 1, PasswordEnv: "GIVEBACK_NATS_PASSWORD"},
		ClickHouse: ClickHouse{Database: "giveback"},
		GitHub: GitHub{
			BaseURL: "https://api.github.com/", TokenEnv: "GITHUB_TOKEN", WebhookSecretEnv: "GIVEBACK_WEBHOOK_SECRET",
			SyncInterval: Duration(15 * time.Minute), Hydrate: true,
		},
		GHArchive: GHArchive{BaseURL: "https://data.gharchive.org/", Parallel: 2, Filter: "roster"},
		HTTP:      HTTP{Addr: "127.0.0.1:8080", WebhookMaxBytes: 25 << 20, PageStaleness: Duration(10 * time.Second)},
		Query:     Query{MaxRows: 10_000_000, MaxBytes: 64 << 20, MaxTime: Duration(30 * time.Second), MaxRowsOut: 100_000, MaxMemory: 512 << 20, MaxThreads: 2, MaxConcurrent: 2},
		Auth: Auth{
			Mode: "none", SessionTTL: Duration(12 * time.Hour),
			OIDC:  OIDC{Scopes: []string{"openid", "profile", "email"}, RolesClaim: "groups"},
			Proxy: AuthProxy{UserHeader: "X-Forwarded-User", GroupsHeader: "X-Forwarded-Groups"},
		},
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
		section := map[string]string{"Config": "", "Company": "company.", "NATS": "nats.", "NATSTLS": "nats.tls.", "ClickHouse": "clickhouse.",
			"GitHub": "github.", "GHArchive": "gharchive.", "HTTP": "http.", "Query": "query.", "Dependencies": "dependencies.", "Identities": "identities.",
			"Auth": "auth.", "OIDC": "auth.oidc.", "AuthProxy": "auth.proxy.", "Privacy": "privacy.", "Retention": "retention."}[p[3]]
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
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(c.HTTP.PublicURL, " \t\r\n<>\"'") {
			bad("http.public_url", "%q must be an absolute http(s) address without user, query or fragment, such as https://giveback.example.com", c.HTTP.PublicURL)
		} else {
			c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
		}
	}
	if d := c.HTTP.PageStaleness.D(); d < 0 || d > time.Minute {
		bad("http.page_staleness", "%s must be between 0s (pages always from the data as it is) and 1m", d)
	}
	if c.HTTP.WebhookAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.WebhookAddr); err != nil {
			bad("http.webhook_addr", "%q must be host:port", c.HTTP.WebhookAddr)
		}
	}
	if c.NATS.CredentialsFile != "" && (c.NATS.PasswordFile != "") {
		bad("nats.credentials_file", "give either nats.credentials_file or nats.password_file, not both")
	}
	if (c.NATS.TLS.ServerCertFile == "") != (c.NATS.TLS.ServerKeyFile == "") {
		bad("nats.tls.server_cert_file", "the embedded server needs both server_cert_file and server_key_file, or neither")
	}
	if (c.NATS.TLS.CertFile == "") != (c.NATS.TLS.KeyFile == "") {
		bad("nats.tls.cert_file", "a client certificate needs both cert_file and key_file, or neither")
	}
	if c.HTTP.WebhookMaxBytes < 1024 {
		bad("http.webhook_max_bytes", "%d must be at least 1024", c.HTTP.WebhookMaxBytes)
	}
	if c.Query.MaxRows < 1 || c.Query.MaxBytes < 1 || c.Query.MaxTime.D() < time.Second || c.Query.MaxRowsOut < 1 {
		bad("query", "max_rows, max_bytes, max_rows_out must be positive and max_time at least 1s")
	}
	if c.Query.MaxMemory < 1<<20 || c.Query.MaxThreads < 1 || c.Query.MaxConcurrent < 1 {
		bad("query", "max_memory must be at least 1048576 (1 MiB), max_threads and max_concurrent at least 1")
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
	if d := c.Retention.RawEvents.D(); d != 0 && d < time.Hour {
		bad("retention.raw_events", "%s is shorter than an hour; give 0 to keep raw records, or an age such as 400d", d)
	}
	if d := c.Retention.RawStream.D(); d != 0 && d < time.Hour {
		bad("retention.raw_stream", "%s is shorter than an hour; enrich may not have read the records yet", d)
	}
	errs = append(errs, c.validateAuth()...)
	errs = append(errs, c.validateReports()...)
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
// It returns "" when neither is set, and an error naming the variable or file when the value is
// an example left in place (see ExampleSecret).
func Secret(env, file string) (string, error) {
	if env != "" {
		if v := os.Getenv(env); v != "" {
			if ExampleSecret(v) {
				return "", fmt.Errorf("config: environment variable %s holds an example value (%q), not a secret: set a random one, e.g. openssl rand -hex 32", env, v)
			}
			return v, nil
		}
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("config: secret file: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if ExampleSecret(v) {
			return "", fmt.Errorf("config: secret file %s holds an example value (%q), not a secret: write a random one, e.g. openssl rand -hex 32", file, v)
		}
		return v, nil
	}
	return "", nil
}

// exampleSecrets are values that documentation, example files and tutorials put where a secret
// goes. They are compared with case, spaces, dashes, underscores and dots removed.
var exampleSecrets = map[string]bool{
	"changeme": true, "placeholder": true, "example": true, "secret": true, "password": true,
	"passw0rd": true, "test": true, "default": true, "admin": true, "root": true, "xxx": true,
	"todo": true, "fixme": true, "replaceme": true, "yoursecret": true, "yourpassword": true,
	"mysecret": true, "mypassword": true, "webhooksecret": true, "123456": true, "12345678": true,
	"changethis": true, "insertsecrethere": true, "clickhousepassword": true, "natspassword": true,
	"giveback": true, "githubtoken": true, "token": true, "dummy": true, "none": true, "null": true,
}

// ExampleSecret reports whether v is a value from an example rather than a secret: change-me,
// placeholder, <your-secret> and the like, or a value starting with placeholder- (as the
// deployment checks use).
func ExampleSecret(v string) bool {
	n := strings.ToLower(strings.TrimSpace(v))
	n = strings.Trim(n, "<>{}[]$\"' ")
	if strings.HasPrefix(n, "placeholder") || strings.HasPrefix(n, "change-me") || strings.HasPrefix(n, "changeme") {
		return true
	}
	n = strings.NewReplacer("-", "", "_", "", ".", "", " ", "").Replace(n)
	return exampleSecrets[n]
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
