package demo

// Words the titles, messages and bodies are made of. They hold no character that JSON escapes
// except where a test wants one.

var prVerbs = []string{"Fix", "Add", "Improve", "Refactor", "Document", "Speed up", "Simplify", "Handle errors in",
	"Add tests for", "Remove deprecated", "Support context cancellation in", "Reduce allocations in", "Harden"}

var issueTitles = []string{"Panic in", "Flaky test in", "Unexpected behaviour of", "Proposal: extend", "Memory leak in",
	"Docs: clarify", "Regression in", "Feature request: configurable", "Data race in", "Slow"}

var subjects = []string{"the scheduler", "client retries", "metrics labels", "the config parser", "TLS handshake",
	"the HTTP/2 transport", "the query planner", "graceful shutdown", "the cache eviction", "CLI flags",
	"the exporter", "storage compaction", "leader election", "websocket reconnects", "the build on arm64",
	"JSON decoding", "rate limiting", "the health check", "log sampling", "connection pooling",
	"the upgrade path", "memory accounting", "error messages", "the watch API", "plugin loading"}

var slugs = []string{"fix-retries", "faster-compaction", "tls-config", "docs-typo", "arm64-build", "ctx-cancel",
	"pool-metrics", "shutdown-order", "cache-eviction", "flaky-test", "json-decoding", "rate-limit",
	"log-sampling", "leader-election", "upgrade-path", "error-wrapping", "health-check", "watch-api"}

var deps = []string{"golang.org/x/net", "github.com/prometheus/client_golang", "google.golang.org/grpc",
	"actions/checkout", "github.com/stretchr/testify", "eslint", "typescript", "@types/node"}

var commitMessages = []string{"Fix typo in README", "Update dependencies", "Add unit tests", "Handle nil config",
	"Refactor retry loop", "Bump version", "Improve error message", "Remove dead code", "CI: cache modules",
	"Tidy go.mod", "Fix lint warnings", "Add changelog entry", "Speed up integration tests",
	"Merge branch 'main' into feature", "Document the \"replicas\" option"}

var commentBodies = []string{"LGTM, thanks!", "Could you add a test for the error path?", "Thanks for the report, I can reproduce this.",
	"This was fixed on main, could you try the latest release?", "Rebased on main.", "I left a few comments inline.",
	"Nice catch. /lgtm", "Is this still happening with the latest version?", "Addressed the review comments.",
	"Let's discuss this in the next community meeting.", "+1, we hit this in production as well."}

var prBodies = []string{"This change fixes the problem described in the linked issue.\n\nTested locally with the integration suite.",
	"Small cleanup, no behaviour change.", "Adds the option discussed in the issue. Docs updated.",
	"Follow-up to the previous PR: handles the remaining edge cases.", "Signed-off-by: see commits"}

var issueBodies = []string{"Steps to reproduce:\n\n1. Start with the default config\n2. Send traffic\n\nExpected: no error.",
	"We see this on every release since the last minor version.", "Would the maintainers accept a PR for this?",
	"Version: latest\nOS: Linux amd64"}
