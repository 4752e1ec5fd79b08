package events

import "time"

// Forget asks enrich to remove one person from ClickHouse (`giveback forget`): their
// contributions, raw records, project activity and unmatched identities, and to record the
// forget. The command, as the NATS administrator, has already deleted the stream messages and
// KV entries that name them and says how many in NATSRemoved. Who is a login, an e-mail or an
// employee id; both sides widen it to every identity the roster gives the same person. It
// travels on SubjectForget by request/reply and is never stored.
type Forget struct {
	Schema      string           `json:"schema"`
	RequestID   string           `json:"request_id"` // random, 32 hex digits; names the audit row
	Who         string           `json:"who"`
	Actor       string           `json:"actor"`                  // who ran the command (OS user or token name), for the audit
	NATSRemoved map[string]int64 `json:"nats_removed,omitempty"` // "stream.GIVEBACK_RAW", "kv.giveback_cursors": how many
}

// ForgetResult is enrich's reply to a Forget: what it removed, per table, stream and bucket.
// It names the person only by how many identities were resolved, never by them.
type ForgetResult struct {
	Schema     string           `json:"schema"`
	RequestID  string           `json:"request_id"`
	OnRoster   bool             `json:"on_roster"`  // the person is in the roster enrich uses
	OptedOut   bool             `json:"opted_out"`  // and has opt_out=true there
	Identities int              `json:"identities"` // logins and e-mails forgotten
	Removed    map[string]int64 `json:"removed"`    // "clickhouse.contributions", "stream.GIVEBACK_RAW", "kv.giveback_cursors": how many
	Took       time.Duration    `json:"took_ns"`
	Error      string           `json:"error,omitempty"` // set when it failed; what Removed says was done
}
