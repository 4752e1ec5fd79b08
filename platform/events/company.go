package events

// KeyRosterCompany is the key beside the roster (in the bucket of KeyRosterCurrent) holding a
// Company: who the running instance counts as "we". `giveback up` and `giveback roster load`
// write it; a backfill against a running instance reads the company's orgs from it.
const KeyRosterCompany = "roster.company"

// SchemaCompany is the schema of a Company value.
const SchemaCompany = "giveback.company.v1"

// Company is the company a running instance attributes for: its name, GitHub organisations and
// e-mail domains, as in the company section of the configuration.
type Company struct {
	Schema       string   `json:"schema"`
	Name         string   `json:"name"`
	GitHubOrgs   []string `json:"github_orgs"`
	EmailDomains []string `json:"email_domains"`
}
