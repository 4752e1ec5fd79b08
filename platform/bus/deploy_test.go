package bus_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"

	"giveback.dev/platform/bus"
)

var update = flag.Bool("update", false, "rewrite the users block of the deployment NATS configurations")

const (
	beginUsers = "# BEGIN giveback users"
	endUsers   = "# END giveback users"
)

// withUsers returns text with the lines between the markers replaced by the authorization
// block, indented as the BEGIN line is.
func withUsers(t *testing.T, text string) string {
	t.Helper()
	lines := strings.SplitAfter(text, "\n")
	begin, end := -1, -1
	for i, l := range lines {
		switch {
		case strings.Contains(l, beginUsers):
			begin = i
		case strings.Contains(l, endUsers):
			end = i
		}
	}
	if begin < 0 || end < begin {
		t.Fatalf("no %q … %q markers", beginUsers, endUsers)
	}
	indent := lines[begin][:strings.Index(lines[begin], "#")]
	head := lines[:begin+1]
	if strings.Contains(lines[begin+1], "go test") {
		head = lines[:begin+2]
	}
	var b strings.Builder
	for _, l := range head {
		b.WriteString(l)
	}
	for _, l := range strings.SplitAfter(strings.TrimSuffix(bus.ServerAuthConfig(), "\n"), "\n") {
		b.WriteString(indent + l)
	}
	b.WriteString("\n")
	for _, l := range lines[end:] {
		b.WriteString(l)
	}
	return b.String()
}

// The NATS configurations of docker compose and Kubernetes carry the users and permissions of
// PermissionsOf: each parses with nats-server's own parser into exactly those users, with the
// passwords taken from the environment.
func TestDeployNATSConfig(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, c := range []struct {
		path string
		conf func(t *testing.T, file string) string // the nats.conf text inside the file
	}{
		{"deploy/compose/nats.conf", func(_ *testing.T, s string) string { return s }},
		{"deploy/kubernetes/nats.yaml", func(t *testing.T, s string) string {
			dec := yaml.NewDecoder(strings.NewReader(s))
			for {
				var doc struct {
					Kind string            `yaml:"kind"`
					Data map[string]string `yaml:"data"`
				}
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("no ConfigMap with nats.conf: %v", err)
				}
				if doc.Kind == "ConfigMap" && doc.Data["nats.conf"] != "" {
					return doc.Data["nats.conf"]
				}
			}
		}},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			path := filepath.Join(root, c.path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := withUsers(t, string(b))
			if *update && want != string(b) {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				b = []byte(want)
			}
			if want != string(b) {
				t.Fatalf("%s: the users block differs from bus.ServerAuthConfig(); run go test ./platform/bus -run TestDeployNATSConfig -update", c.path)
			}
			conf := filepath.Join(t.TempDir(), "nats.conf")
			if err := os.WriteFile(conf, []byte(c.conf(t, string(b))), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("POD_NAME", "nats-0")
			for _, u := range bus.Users {
				t.Setenv(bus.PasswordEnv(u), "pw-"+u)
			}
			opts, err := server.ProcessConfigFile(conf)
			if err != nil {
				t.Fatalf("nats-server refuses the configuration: %v", err)
			}
			if len(opts.Users) != len(bus.Users) {
				t.Fatalf("%d users; want %d", len(opts.Users), len(bus.Users))
			}
			for _, u := range opts.Users {
				want := bus.PermissionsOf(u.Username)
				if want.PublishAllow == nil || u.Password != "pw-"+u.Username {
					t.Errorf("user %q with password %q: unknown, or password not from %s", u.Username, u.Password, bus.PasswordEnv(u.Username))
					continue
				}
				p := u.Permissions
				if p == nil || p.Publish == nil || p.Subscribe == nil ||
					!slices.Equal(p.Publish.Allow, want.PublishAllow) || !slices.Equal(p.Publish.Deny, want.PublishDeny) ||
					!slices.Equal(p.Subscribe.Allow, want.SubscribeAllow) || len(p.Subscribe.Deny) != 0 ||
					(p.Response != nil) != want.Responses ||
					(p.Response != nil && (p.Response.MaxMsgs != 1 || p.Response.Expires != bus.ResponseExpiry)) {
					t.Errorf("user %s: permissions %+v differ from PermissionsOf", u.Username, p)
				}
			}
		})
	}
}
