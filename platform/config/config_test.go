package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"giveback.dev/platform/config"
)

func write(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "roster.csv"), []byte("employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "giveback.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleConfigLoads(t *testing.T) {
	body, err := os.ReadFile("../../giveback.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(write(t, string(body)))
	if err != nil {
		t.Fatalf("giveback.example.yaml: %v", err)
	}
	if cfg.Company.Name != "Example Corp" || !cfg.Company.IsCompanyOrg("EXAMPLE-CORP") || cfg.Query.MaxTime.D().Seconds() != 30 {
		t.Fatalf("example config read as %+v", cfg)
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown top-level key", "compnay:\n  name: x\n", "unknown key compnay"},
		{"unknown nested key", "company:\n  name: x\n  orgs: [a]\n", "unknown key company.orgs"},
		{"bad org", "company:\n  github_orgs: ['not an org']\n", "company.github_orgs[0]"},
		{"bad domain", "company:\n  email_domains: ['@x']\n", "company.email_domains[0]"},
		{"bad duration", "github:\n  sync_interval: soon\n", "not a duration"},
		{"short interval", "github:\n  sync_interval: 1s\n", "github.sync_interval"},
		{"password in dsn", "clickhouse:\n  dsn: clickhouse://u:secret@h:9000/db\n", "clickhouse.dsn: must not hold a password"},
		{"bad nats url", "nats:\n  url: http://x\n", "nats.url"},
		{"missing roster", "roster: nope.csv\n", "roster:"},
		{"bad filter", "gharchive:\n  filter: some\n", "gharchive.filter"},
		{"bad engine", "clickhouse:\n  database_engine: Memory\n", "clickhouse.database_engine"},
		{"app without installation", "github:\n  app_id: 12\n", "github.app_installation_id"},
		{"app without key", "github:\n  app_id: 12\n  app_installation_id: 34\n", "github.app_private_key_file"},
		{"app key missing", "github:\n  app_id: 12\n  app_installation_id: 34\n  app_private_key_file: nope.pem\n", "github.app_private_key_file: stat"},
		{"installation without app", "github:\n  app_installation_id: 34\n", "github.app_id"},
		{"missing affiliations", "identities:\n  affiliations: nope.json\n", "identities.affiliations"},
		{"relative public url", "http:\n  public_url: giveback.example.com\n", "http.public_url"},
		{"public url with query", "http:\n  public_url: https://g.example.com/?a=1\n", "http.public_url"},
		{"public url with user", "http:\n  public_url: https://u@g.example.com\n", "http.public_url"},
		{"public url of another scheme", "http:\n  public_url: javascript:alert(1)\n", "http.public_url"},
		{"negative page staleness", "http:\n  page_staleness: -1s\n", "http.page_staleness"},
		{"page staleness beyond the cache", "http:\n  page_staleness: 2m\n", "http.page_staleness"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	cfg, err := config.Load(write(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8080" {
		t.Fatalf("http.addr = %q", cfg.HTTP.Addr)
	}
}

func TestSecretFromEnvThenFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GB_TEST_SECRET", "")
	if got, err := config.Secret("GB_TEST_SECRET", f); err != nil || got != "from-file" {
		t.Fatalf("file secret = %q, %v", got, err)
	}
	t.Setenv("GB_TEST_SECRET", "from-env")
	if got, err := config.Secret("GB_TEST_SECRET", f); err != nil || got != "from-env" {
		t.Fatalf("env secret = %q, %v", got, err)
	}
}

// The configurations shipped for docker compose and Kubernetes load as they are.
func TestShippedConfigsLoad(t *testing.T) {
	for _, p := range []string{"../../deploy/compose/giveback.yaml", "../../deploy/kubernetes/config/giveback.yaml"} {
		if _, err := config.Load(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// The public address keeps its path (a dashboard behind a proxy under a prefix) without the
// trailing slash, so that the reports' links join it with one.
func TestPublicURL(t *testing.T) {
	cfg, err := config.Load(write(t, "http:\n  public_url: https://ospo.example.com/giveback/\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.PublicURL != "https://ospo.example.com/giveback" {
		t.Fatalf("http.public_url = %q", cfg.HTTP.PublicURL)
	}
}
