package config_test

import (
	"strings"
	"testing"

	"giveback.dev/platform/config"
)

func TestAuthConfig(t *testing.T) {
	cfg, err := config.Load(write(t, `http:
  addr: 0.0.0.0:8080
auth:
  mode: oidc
  metrics_anonymous: true
  oidc:
    issuer: https://accounts.example.com
    client_id: giveback
    client_secret_env: OIDC_SECRET
    redirect_url: https://giveback.example.com/auth/callback
    roles:
      osp-admins: admin
      staff: viewer
privacy:
  people: true
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Mode != "oidc" || cfg.Auth.OIDC.RolesClaim != "groups" || cfg.Auth.OIDC.Roles["osp-admins"] != "admin" || !cfg.Privacy.People || !cfg.Auth.MetricsAnonymous {
		t.Fatalf("auth read as %+v, privacy %+v", cfg.Auth, cfg.Privacy)
	}
	if d := config.Default(); d.Auth.Mode != "none" || d.Privacy.People || d.Privacy.AggregateOnly {
		t.Fatalf("defaults: %+v %+v", d.Auth, d.Privacy)
	}
	proxy := "http:\n  addr: :8080\nauth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [10.0.0.0/8, 192.168.1.7]\n    default_role: viewer\n"
	if _, err := config.Load(write(t, proxy)); err != nil {
		t.Fatalf("a proxy config: %v", err)
	}
	for _, tc := range []struct{ body, want string }{
		{"http:\n  addr: 0.0.0.0:8080\n", "auth.mode: none (no authentication) is allowed only on a loopback address"},
		{"http:\n  addr: :8080\nauth:\n  mode: none\n", "auth.mode"},
		{"auth:\n  mode: ldap\n", "auth.mode: \"ldap\" must be none, tokens, oidc or proxy"},
		{"auth:\n  moed: tokens\n", "unknown key auth.moed"},
		{"auth:\n  mode: tokens\n  session_ttl: 10s\n", "auth.session_ttl"},
		{"auth:\n  allowed_hosts: ['http://x']\n", "auth.allowed_hosts[0]"},
		{"auth:\n  mode: oidc\n  oidc:\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n    default_role: viewer\n", "auth.oidc.issuer"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: http://idp.example.com\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n    default_role: viewer\n", "auth.oidc.issuer"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n    default_role: viewer\n", "auth.oidc.client_id"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_id: g\n    redirect_url: https://g.example.com/auth/callback\n    default_role: viewer\n", "auth.oidc.client_secret_env"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/\n    default_role: viewer\n", "auth.oidc.redirect_url"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n    roles:\n      staff: boss\n", "auth.oidc.roles.staff"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n", "auth.oidc.roles: map at least one group"},
		{"auth:\n  mode: oidc\n  oidc:\n    issuer: https://idp.example.com\n    client_id: g\n    client_secret_env: S\n    redirect_url: https://g.example.com/auth/callback\n    default_role: root\n", "auth.oidc.default_role"},
		{"auth:\n  mode: oidc\n  oidc:\n    isuer: x\n", "unknown key auth.oidc.isuer"},
		{"auth:\n  mode: proxy\n  proxy:\n    default_role: viewer\n", "auth.proxy.trusted_cidrs"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [10.0.0.0/33]\n    default_role: viewer\n", "auth.proxy.trusted_cidrs[0]"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [example.com]\n    default_role: viewer\n", "auth.proxy.trusted_cidrs[0]"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [10.0.0.1]\n    user_header: 'X User'\n    default_role: viewer\n", "auth.proxy.user_header"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [10.0.0.1]\n    roles:\n      g: superuser\n", "auth.proxy.roles.g"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidrs: [10.0.0.1]\n", "auth.proxy.roles: map at least one group"},
		{"auth:\n  mode: proxy\n  proxy:\n    trusted_cidr: [10.0.0.1]\n", "unknown key auth.proxy.trusted_cidr"},
		{"privacy:\n  people: true\n  aggregate_only: true\n", "privacy.people"},
		{"privacy:\n  people_: true\n", "unknown key privacy.people_"},
	} {
		if _, err := config.Load(write(t, tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
}

func TestCheckAuthAddr(t *testing.T) {
	a := config.Default().Auth
	for addr, ok := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, "LocalHost:1": true,
		":8080": false, "0.0.0.0:80": false, "[::]:80": false, "10.0.0.1:80": false, "example.com:80": false, "127.0.0.1": false} {
		if err := a.CheckAuthAddr(addr); (err == nil) != ok {
			t.Errorf("mode none on %q: %v", addr, err)
		}
	}
	a.Mode = "tokens"
	if err := a.CheckAuthAddr(":8080"); err != nil {
		t.Errorf("mode tokens on all interfaces: %v", err)
	}
}
