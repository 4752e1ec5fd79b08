package events

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid marks a value from an event that may not go into a GitHub API path.
var ErrInvalid = errors.New("invalid")

// MaxNumber bounds an issue or pull request number (GitHub's are 32-bit).
const MaxNumber = 1<<31 - 1

// ValidOwner reports whether s can be a GitHub user or organization login as a repository
// owner: 1 to 39 letters, digits or hyphens, not starting with a hyphen.
func ValidOwner(s string) bool {
	if len(s) == 0 || len(s) > 39 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ValidRepoName reports whether s can be a GitHub repository name: 1 to 100 letters, digits,
// '.', '-' or '_', and not "." or "..".
func ValidRepoName(s string) bool {
	if len(s) == 0 || len(s) > 100 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// ValidRepo reports whether s is owner/name with a valid owner and name.
func ValidRepo(s string) bool {
	owner, name, ok := strings.Cut(s, "/")
	return ok && ValidOwner(owner) && ValidRepoName(name)
}

// ValidSHA reports whether s is a Git object id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
func ValidSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// ValidNumber reports whether n can be an issue or pull request number.
func ValidNumber(n int) bool { return n > 0 && n <= MaxNumber }

// Validate checks every value of the request that goes into a GitHub API path: the repository,
// and the pull request's number or the push's before and head. The error wraps ErrInvalid and
// names the field.
func (h *Hydrate) Validate() error {
	bad := func(field, format string, v any) error {
		return fmt.Errorf("hydrate request %.80q: %w %s %.120q: %s", h.RawID, ErrInvalid, field, fmt.Sprint(v), format)
	}
	if !ValidRepo(h.Repo) {
		return bad("repo", "want owner/name as GitHub allows them", h.Repo)
	}
	switch h.Kind {
	case HydratePullRequest:
		if !ValidNumber(h.Number) {
			return bad("number", fmt.Sprintf("want a number from 1 to %d", MaxNumber), h.Number)
		}
	case HydratePush:
		if !ValidSHA(h.Head) {
			return bad("head", "want a commit SHA of 40 or 64 hex digits", h.Head)
		}
		if h.Before != "" && !ValidSHA(h.Before) {
			return bad("before", "want a commit SHA of 40 or 64 hex digits, or none", h.Before)
		}
	default:
		return bad("kind", "want "+HydratePullRequest+" or "+HydratePush, h.Kind)
	}
	return nil
}
