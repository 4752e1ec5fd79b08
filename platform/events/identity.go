package events

import "time"

// Identity kinds and reasons of an Unmatched identity.
const (
	IdentityLogin = "login"
	IdentityEmail = "email"

	UnmatchedCompanyOrg   = "company_org"   // active in one of the company's GitHub orgs
	UnmatchedCompanyEmail = "company_email" // commits with an e-mail of a company domain
)

// Unmatched is one contribution by an identity the roster does not know although it looks like
// the company's: activity in a company org, or a company e-mail. Enrich stores them in the
// unmatched_identities table for the OSPO to resolve (add to the roster, or alias).
type Unmatched struct {
	Identity       string    // login or e-mail, lower-cased
	Kind           string    // IdentityLogin or IdentityEmail
	Reason         string    // UnmatchedCompanyOrg or UnmatchedCompanyEmail
	Repo           string    // owner/name, lower-cased
	At             time.Time // when the contribution was made
	ContributionID string    // the contribution's id; a repeat is counted once
}
