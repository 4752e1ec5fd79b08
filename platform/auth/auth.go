// Package auth decides who may use Giveback's HTTP routes. One table (Table) gives every route
// its minimum role and says whether it shows individuals; Guard authenticates each request in the
// configured mode (none, tokens, oidc or proxy), looks its route up in the table, refuses what the
// caller may not do, refuses cross-site and DNS-rebinding attempts, and sets the security headers
// on every response. A route missing from the table is refused to everyone.
package auth

import (
	"context"
	"fmt"
	"net/http"
)

// Role is what a caller may do; each role may do all that the roles below it may.
type Role int

// The roles, lowest first. Anonymous is a caller who has not authenticated; Nobody is the
// minimum role of a route that no one may use (a people route under privacy.aggregate_only).
const (
	Anonymous Role = iota
	Viewer
	Analyst
	Admin
	Nobody
)

// String returns the role's name as written in the configuration.
func (r Role) String() string {
	switch r {
	case Anonymous:
		return "anonymous"
	case Viewer:
		return "viewer"
	case Analyst:
		return "analyst"
	case Admin:
		return "admin"
	}
	return "nobody"
}

// ParseRole parses viewer, analyst or admin.
func ParseRole(s string) (Role, error) {
	switch s {
	case "viewer":
		return Viewer, nil
	case "analyst":
		return Analyst, nil
	case "admin":
		return Admin, nil
	}
	return Anonymous, fmt.Errorf("role %q must be viewer, analyst or admin", s)
}

// Identity is an authenticated caller.
type Identity struct {
	// Subject names the caller: a token's name, a user's e-mail or subject, a proxy's user.
	Subject string
	Role    Role
	// Via is how the caller authenticated: none, token, session or proxy.
	Via string
}

type ctxKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the caller Guard authenticated; ok is false for an anonymous caller or a
// request that did not pass through Guard.
func FromContext(ctx context.Context) (id Identity, ok bool) {
	id, ok = ctx.Value(ctxKey{}).(Identity)
	return id, ok && id.Role > Anonymous
}

// IsAdmin reports whether the caller of r is an admin.
func IsAdmin(r *http.Request) bool {
	id, ok := FromContext(r.Context())
	return ok && id.Role >= Admin
}
