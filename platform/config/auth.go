package config

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Roles are the names of the roles, lowest first.
var Roles = []string{"viewer", "analyst", "admin"}

func isRole(s string) bool {
	for _, r := range Roles {
		if s == r {
			return true
		}
	}
	return false
}

// IsLoopback reports whether the host of addr (host:port) is a loopback address or localhost;
// an empty host (all interfaces) is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAuthAddr returns an error naming auth.mode when the mode is none and addr, the address
// actually served, is not a loopback address.
func (a Auth) CheckAuthAddr(addr string) error {
	if a.Mode == "none" && !IsLoopback(addr) {
		return fmt.Errorf("auth.mode: none (no authentication) is allowed only on a loopback address such as 127.0.0.1:8080, not %q; set auth.mode to tokens, oidc or proxy", addr)
	}
	return nil
}

// validateAuth checks the auth and privacy sections.
func (c *Config) validateAuth() []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	roleMap := func(key string, m map[string]string) {
		for k, v := range m {
			if strings.TrimSpace(k) == "" {
				bad(key, "a group name is empty")
			}
			if !isRole(v) {
				bad(key+"."+k, "%q must be viewer, analyst or admin", v)
			}
		}
	}
	a := c.Auth
	switch a.Mode {
	case "none":
		if err := a.CheckAuthAddr(c.HTTP.Addr); err != nil {
			errs = append(errs, err)
		}
	case "tokens":
	case "oidc":
		o := a.OIDC
		if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(hostPort(u)))) {
			bad("auth.oidc.issuer", "%q must be the provider's https URL, such as https://accounts.example.com", o.Issuer)
		}
		if strings.TrimSpace(o.ClientID) == "" {
			bad("auth.oidc.client_id", "must be set to the client id registered with the provider")
		}
		if o.ClientSecretEnv == "" && o.ClientSecretFile == "" {
			bad("auth.oidc.client_secret_env", "name the environment variable (or auth.oidc.client_secret_file the file) holding the client secret")
		}
		if u, err := url.Parse(o.RedirectURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Path != "/auth/callback" {
			bad("auth.oidc.redirect_url", "%q must be this service's callback, such as https://giveback.example.com/auth/callback", o.RedirectURL)
		}
		if strings.TrimSpace(o.RolesClaim) == "" {
			bad("auth.oidc.roles_claim", "must name the ID token claim holding the user's groups, such as groups")
		}
		roleMap("auth.oidc.roles", o.Roles)
		if o.DefaultRole != "" && !isRole(o.DefaultRole) {
			bad("auth.oidc.default_role", "%q must be empty, viewer, analyst or admin", o.DefaultRole)
		}
		if len(o.Roles) == 0 && o.DefaultRole == "" {
			bad("auth.oidc.roles", "map at least one group to a role, or set auth.oidc.default_role")
		}
	case "proxy":
		p := a.Proxy
		if len(p.TrustedCIDRs) == 0 {
			bad("auth.proxy.trusted_cidrs", "list the reverse proxy's addresses, such as 10.0.0.5/32")
		}
		for i, s := range p.TrustedCIDRs {
			if _, err := ParseCIDR(s); err != nil {
				bad(fmt.Sprintf("auth.proxy.trusted_cidrs[%d]", i), "%v", err)
			}
		}
		if !validHeader(p.UserHeader) {
			bad("auth.proxy.user_header", "%q is not an HTTP header name", p.UserHeader)
		}
		if p.GroupsHeader != "" && !validHeader(p.GroupsHeader) {
			bad("auth.proxy.groups_header", "%q is not an HTTP header name", p.GroupsHeader)
		}
		roleMap("auth.proxy.roles", p.Roles)
		if p.DefaultRole != "" && !isRole(p.DefaultRole) {
			bad("auth.proxy.default_role", "%q must be empty, viewer, analyst or admin", p.DefaultRole)
		}
		if len(p.Roles) == 0 && p.DefaultRole == "" {
			bad("auth.proxy.roles", "map at least one group to a role, or set auth.proxy.default_role")
		}
	default:
		bad("auth.mode", "%q must be none, tokens, oidc or proxy", a.Mode)
	}
	if a.SessionTTL.D() < time.Minute {
		bad("auth.session_ttl", "%s must be at least 1m", a.SessionTTL.D())
	}
	for i, h := range a.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			bad(fmt.Sprintf("auth.allowed_hosts[%d]", i), "%q must be a host name without scheme or port", h)
		}
	}
	if c.Privacy.People && c.Privacy.AggregateOnly {
		bad("privacy.people", "cannot be true with privacy.aggregate_only, which shows individuals to no one")
	}
	return errs
}

func hostPort(u *url.URL) string {
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return u.Host
}

// ParseCIDR parses a CIDR such as 10.0.0.0/8, or a single address as a /32 (/128).
func ParseCIDR(s string) (*net.IPNet, error) {
	if !strings.Contains(s, "/") {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", s)
		}
		bits := 128
		if ip4 := ip.To4(); ip4 != nil {
			ip, bits = ip4, 32
		}
		return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
	}
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", s)
	}
	return n, nil
}

func validHeader(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return http.CanonicalHeaderKey(h) != ""
}
