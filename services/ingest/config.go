package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/services/ingest/gharchive"
	"giveback.dev/services/ingest/githubsync"
	"giveback.dev/services/ingest/webhook"
)

// FromConfig builds the ingest service from the configuration: the webhook secret and replay
// bucket, the GH Archive filter, and the GitHub clients (tokens, a GitHub App installation)
// shared by the REST sync and hydration. The filter and the synced logins follow the roster in
// NATS KV (roster.Follow), starting from ro when none is there, until ctx ends. reg may be nil.
func FromConfig(ctx context.Context, cfg config.Config, js jetstream.JetStream, ro *roster.Roster, reg prometheus.Registerer, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	secret, err := config.Secret(cfg.GitHub.WebhookSecretEnv, cfg.GitHub.WebhookSecretFile)
	if err != nil {
		return nil, err
	}
	replays, err := webhook.OpenReplays(ctx, js, cfg.NATS.Replicas)
	if err != nil {
		return nil, err
	}
	o := Options{
		Publisher: bus.NewPublisher(js), Log: log, Registry: reg, JS: js,
		WebhookSecret: []byte(secret), WebhookMaxBytes: cfg.HTTP.WebhookMaxBytes, WebhookReplays: replays,
		Parallel: cfg.GHArchive.Parallel, SyncInterval: cfg.GitHub.SyncInterval.D(),
	}
	if err := o.OpenBuckets(ctx, js); err != nil {
		return nil, err
	}
	var followers []func(*roster.Roster)
	if cfg.GHArchive.Filter == "roster" {
		var filter atomic.Pointer[func([]byte) bool]
		followers = append(followers, func(r *roster.Roster) {
			f := gharchive.LoginFilter(CollectedLogins(r), cfg.Company.GitHubOrgs)
			filter.Store(&f)
		})
		o.Filter = func(line []byte) bool { return (*filter.Load())(line) }
	}
	rest, since, err := newREST(cfg, log)
	if err != nil {
		return nil, err
	}
	if rest != nil && cfg.GitHub.Sync {
		sy := &githubsync.Syncer{REST: rest, Since: since}
		o.Syncer = sy
		followers = append(followers, func(r *roster.Roster) { sy.SetLogins(CollectedLogins(r)) })
	}
	if rest != nil && cfg.GitHub.Hydrate {
		o.Hydrator = &githubsync.Hydrator{REST: rest}
	}
	var following func()
	if len(followers) > 0 {
		rkv, err := js.KeyValue(ctx, events.BucketRoster)
		if err != nil {
			return nil, fmt.Errorf("ingest: roster bucket: %w", err)
		}
		// Run stops the follower when it returns, and waits for it.
		fctx, cancel := context.WithCancel(ctx)
		wait := roster.Follow(fctx, rkv, ro, log, func(r *roster.Roster) {
			for _, f := range followers {
				f(r)
			}
		})
		following = func() { cancel(); wait() }
	}
	svc, err := New(o)
	if err != nil {
		if following != nil {
			following()
		}
		return nil, err
	}
	svc.following = following
	return svc, nil
}

// CollectedLogins returns the roster's logins minus those of people who opted out: their
// activity is never collected.
func CollectedLogins(ro *roster.Roster) []string {
	var out []string
	for _, l := range ro.Logins() {
		if !ro.OptedOut(l) {
			out = append(out, l)
		}
	}
	return out
}

// newREST returns the one REST client the REST sync and hydration share (the tokens' rate
// limits and the ETags with it), or nil when neither is on or there is no credential for them,
// and where the REST sync starts a login without a cursor (github.sync_since).
func newREST(cfg config.Config, log *slog.Logger) (*githubsync.REST, time.Time, error) {
	token, err := config.Secret(cfg.GitHub.TokenEnv, cfg.GitHub.TokenFile)
	if err != nil {
		return nil, time.Time{}, err
	}
	app := cfg.GitHub.HasApp()
	if cfg.GitHub.Sync && token == "" && !app {
		return nil, time.Time{}, fmt.Errorf("github.sync is on but no token: set $%s (github.token_env), github.token_file, or a GitHub App (github.app_id, app_installation_id, app_private_key_file)", cfg.GitHub.TokenEnv)
	}
	if (token == "" && !app) || (!cfg.GitHub.Sync && !cfg.GitHub.Hydrate) {
		return nil, time.Time{}, nil
	}
	clients, err := githubClients(cfg, token)
	if err != nil {
		return nil, time.Time{}, err
	}
	since := time.Now().AddDate(-1, 0, 0)
	if cfg.GitHub.SyncSince != "" {
		if since, err = time.Parse(time.DateOnly, cfg.GitHub.SyncSince); err != nil {
			return nil, time.Time{}, fmt.Errorf("github.sync_since: %w", err)
		}
	}
	return &githubsync.REST{Clients: clients, Log: log}, since, nil
}

// githubClients returns a client per token (the variable may hold several, comma-separated) and
// one for the GitHub App installation when configured; each has a rate limit of its own.
func githubClients(cfg config.Config, token string) ([]*github.Client, error) {
	var clients []*github.Client
	if token != "" {
		var err error
		if clients, err = githubsync.NewClients(cfg.GitHub.BaseURL, strings.Split(token, ","), nil); err != nil {
			return nil, err
		}
	}
	if cfg.GitHub.HasApp() {
		key, err := os.ReadFile(cfg.Path(cfg.GitHub.AppPrivateKeyFile))
		if err != nil {
			return nil, fmt.Errorf("github.app_private_key_file: %w", err)
		}
		c, err := githubsync.NewAppClient(cfg.GitHub.BaseURL, githubsync.App{ID: cfg.GitHub.AppID,
			InstallationID: cfg.GitHub.AppInstallationID, PrivateKey: key}, nil)
		if err != nil {
			return nil, fmt.Errorf("github.app_private_key_file %s: %w", cfg.GitHub.AppPrivateKeyFile, err)
		}
		clients = append(clients, c)
	}
	return clients, nil
}
