package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sort"
	"time"

	"github.com/nats-io/nats.go"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
	"giveback.dev/services/enrich"
)

const forgetSynopsis = "forget [--config FILE] [--nats URL] [--data DIR] [--actor NAME] [--clickhouse DSN] LOGIN|EMAIL|EMPLOYEE_ID"

// cmdForget runs `giveback forget`: it removes one person everywhere and prints what was
// removed. Against a running instance it deletes, as the NATS administrator, the stream
// messages and KV entries that name the person, then asks enrich over NATS
// (events.SubjectForget) to delete their ClickHouse rows and record the forget in
// forget_audit. With --clickhouse and no running instance, it forgets in ClickHouse alone, with
// the roster of the config.
func cmdForget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("forget", forgetSynopsis, stderr)
	c.register(fs, true, true)
	actor := fs.String("actor", osUser(), "who runs the command, recorded in forget_audit: an OS user or a token name")
	timeout := fs.Duration("timeout", 30*time.Minute, "how long to wait for enrich to finish")
	cfg, log, err := c.parse(fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("forget: give exactly one login, e-mail or employee id (flags first)")
	}
	req, err := enrich.NewForget(fs.Arg(0), *actor)
	if err != nil {
		return err
	}
	var res events.ForgetResult
	if c.clickhouse != "" {
		st, err := openStore(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer st.Close()
		ro, err := loadRoster(cfg, log)
		if err != nil {
			return err
		}
		res = enrich.Forget(ctx, st, ro, cfg.Identities.Aliases, req, log)
		fmt.Fprintln(stdout, "Forgotten in ClickHouse only: the NATS streams and KV bucket were not searched (run it against the running instance for those).")
	} else {
		if cfg.NATS.URL == "" {
			cfg.NATS.URL = "nats://" + cfg.NATS.ListenAddr // a local `giveback up`
		}
		if res, err = requestForget(ctx, cfg, req, *timeout, stdout, log); err != nil {
			return err
		}
	}
	printForget(stdout, cfg, res)
	if res.Error != "" {
		return fmt.Errorf("forget %s did not finish: %s (what it removed is listed above; run it again)", res.RequestID, res.Error)
	}
	return nil
}

// requestForget deletes what names the person from NATS, then sends the request to enrich and
// waits for its reply. The roster is the one enrich uses (the KV bucket's, else the config's).
func requestForget(ctx context.Context, cfg config.Config, req events.Forget, timeout time.Duration, stdout io.Writer, log *slog.Logger) (events.ForgetResult, error) {
	var res events.ForgetResult
	nc, js, err := connectBus(ctx, cfg, "forget")
	if err != nil {
		return res, err
	}
	defer bus.Drain(nc, 5*time.Second)
	file, err := loadRoster(cfg, log)
	if err != nil {
		return res, err
	}
	ro, _, err := kvRoster(ctx, cfg, js, file, log)
	if err != nil {
		return res, err
	}
	req.NATSRemoved, err = enrich.PurgeNATS(ctx, js, ro, cfg.Identities.Aliases, req.Who)
	if err != nil {
		return res, fmt.Errorf("forget: %w (removed from NATS so far: %v; run it again)", err, req.NATSRemoved)
	}
	data, err := json.Marshal(req)
	if err != nil {
		return res, fmt.Errorf("forget: encode request: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, events.SubjectForget, data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		fmt.Fprintf(stdout, "forget %s: removed from NATS only: %v\n", req.RequestID, req.NATSRemoved)
		return res, fmt.Errorf("forget: no enrich service answers on %s: start `giveback up` or `giveback enrich` and run it again, or give --clickhouse DSN to forget in ClickHouse alone", cfg.NATS.URL)
	case err != nil:
		return res, fmt.Errorf("forget: request %s: %w (enrich may still be working; forget_audit records it when done)", req.RequestID, err)
	}
	if err := json.Unmarshal(msg.Data, &res); err != nil {
		return res, fmt.Errorf("forget: decode reply: %w", err)
	}
	return res, nil
}

// printForget prints what a forget removed and what the company must still do.
func printForget(w io.Writer, cfg config.Config, res events.ForgetResult) {
	fmt.Fprintf(w, "forget %s: %d logins and e-mails, in %s\n", res.RequestID, res.Identities, res.Took.Round(time.Millisecond))
	places := make([]string, 0, len(res.Removed))
	for k := range res.Removed {
		places = append(places, k)
	}
	sort.Strings(places)
	for _, p := range places {
		fmt.Fprintf(w, "  %-36s %d removed\n", p, res.Removed[p])
	}
	if len(places) == 0 && res.Error == "" {
		fmt.Fprintln(w, "  nothing named them")
	}
	roster := "the roster CSV"
	if cfg.Roster != "" {
		roster = cfg.Path(cfg.Roster)
	}
	switch {
	case res.OnRoster && !res.OptedOut:
		fmt.Fprintf(w, "They are still on the roster: set opt_out=true on their rows in %s and run `giveback roster load`,\n"+
			"or the next sync collects them again. (Deleting their rows instead lets GH Archive and webhooks record them as anyone else.)\n", roster)
	case res.OnRoster:
		fmt.Fprintln(w, "They are opted out in the roster, so nothing collects or stores them again; the roster keeps their identities for that.")
	default:
		fmt.Fprintln(w, "They are not on the roster. GH Archive and webhooks still record anyone active in the company's repositories:\n"+
			"add them to the roster with opt_out=true to keep them out for good.")
	}
}

// osUser returns who runs the command: $USER, else the account of the process, else "".
func osUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
