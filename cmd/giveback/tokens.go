package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/auth"
	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
)

const tokensUsage = `Usage:
  giveback tokens create --role viewer|analyst|admin --name NAME [--config FILE] [--nats URL]
  giveback tokens list [--config FILE] [--nats URL]
  giveback tokens revoke ID|NAME [--config FILE] [--nats URL]`

// cmdTokens runs `giveback tokens`: it creates, lists and revokes the API tokens of auth.mode
// tokens in the NATS bucket every report replica watches, so a change takes effect at once.
func cmdTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := subcommand("tokens", tokensUsage, []string{"create", "list", "revoke"}, args, stdout, stderr)
	if err != nil {
		return err
	}
	var c common
	fs := newFlags("tokens "+sub, "tokens "+sub+" [flags]", stderr)
	c.register(fs, true, false)
	role := fs.String("role", "", "create: the token's role: viewer (aggregates), analyst (adds the query console and individuals where privacy.people allows), admin (everything)")
	name := fs.String("name", "", "create: who or what the token is for (shown by list, usable by revoke)")
	refs, err := parseInterspersed(fs, rest)
	if err != nil {
		return err
	}
	r, err := tokenArgs(sub, *role, *name, refs)
	if err != nil {
		return err
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	nc, js, err := connectBus(ctx, cfg, "tokens")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 10*time.Second)
	kv, err := auth.TokenBucket(ctx, js, events.BucketTokens, cfg.NATS.Replicas)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		return createToken(ctx, kv, *name, r, stdout, stderr, log)
	case "list":
		return listTokens(ctx, kv, stdout)
	}
	n, err := auth.RevokeToken(ctx, kv, refs[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d token(s) revoked\n", n)
	return nil
}

// parseInterspersed parses args with fs and returns the arguments that are not flags, which may
// come before, between or after the flags (the reference of revoke).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var out []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return out, nil
		}
		out = append(out, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// tokenArgs checks the arguments of a tokens subcommand and returns the role create gives.
func tokenArgs(sub, role, name string, refs []string) (auth.Role, error) {
	var r auth.Role
	switch sub {
	case "create":
		var err error
		if r, err = auth.ParseRole(role); err != nil {
			return r, fmt.Errorf("tokens create: --role: %w", err)
		}
		if name == "" {
			return r, errors.New("tokens create: --name is required: say who or what the token is for")
		}
	case "revoke":
		if len(refs) != 1 {
			return r, errors.New("tokens revoke: give one token id or name (giveback tokens list shows them)")
		}
	}
	if sub != "revoke" && len(refs) > 0 {
		return r, fmt.Errorf("tokens %s: unexpected argument %q", sub, refs[0])
	}
	return r, nil
}

// createToken creates a token and prints it on stdout, the only time it is shown.
func createToken(ctx context.Context, kv jetstream.KeyValue, name string, r auth.Role, stdout, stderr io.Writer, log *slog.Logger) error {
	tok, rec, err := auth.CreateToken(ctx, kv, name, r)
	if err != nil {
		return err
	}
	log.Info("token created", slog.String("id", rec.ID), slog.String("name", rec.Name), slog.String("role", rec.Role))
	fmt.Fprintf(stdout, "%s\n", tok)
	fmt.Fprintf(stderr, "token %s (%s, %s) created; it is shown only this once: send it as Authorization: Bearer <token>\n", rec.ID, rec.Name, rec.Role)
	return nil
}

// listTokens prints the tokens in kv, without their secrets.
func listTokens(ctx context.Context, kv jetstream.KeyValue, stdout io.Writer) error {
	ts, err := auth.ListTokens(ctx, kv)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

// newGuard builds the authentication of a server listening on addr. js, when not nil, reaches
// the token bucket, whose tokens are then accepted. A server given none (ingest and enrich,
// which serve no data) accepts no token: its /metrics then needs auth.metrics_anonymous.
func newGuard(ctx context.Context, cfg config.Config, addr string, js jetstream.JetStream, log *slog.Logger) (*auth.Guard, error) {
	var toks *auth.Tokens
	if cfg.Auth.Mode == "tokens" && js == nil {
		toks = auth.NewTokens()
	}
	if cfg.Auth.Mode != "none" && js != nil {
		var err error
		if toks, err = auth.FollowTokens(ctx, js, events.BucketTokens, cfg.NATS.Replicas, 5*time.Second, log); err != nil {
			return nil, err
		}
		log.Info("api tokens loaded", slog.Int("tokens", toks.Len()))
	}
	g, err := auth.New(ctx, auth.Options{Auth: cfg.Auth, Privacy: cfg.Privacy, Addr: addr, Tokens: toks}, log)
	if err != nil {
		return nil, err
	}
	log.Info("http authentication", slog.String("mode", cfg.Auth.Mode), slog.Bool("privacy.people", cfg.Privacy.People), slog.Bool("privacy.aggregate_only", cfg.Privacy.AggregateOnly))
	return g, nil
}
