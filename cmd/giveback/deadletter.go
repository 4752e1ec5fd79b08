package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"giveback.dev/platform/bus"
)

const deadletterSynopsis = `deadletter list [--json] [--limit N] | show SEQ | replay SEQ...|--all [--payload FILE] | drop SEQ...
  [--config FILE] [--nats URL] [--data DIR]`

// cmdDeadletter runs `giveback deadletter`: the raw records enrich gave up on, kept in the
// dead-letter stream with why. list shows them, show prints one with its data, replay publishes
// them again on their original subject (after the fault is fixed, or with a corrected payload)
// and removes them from the stream, drop removes them. It connects as the NATS administrator.
func cmdDeadletter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, rest, err := subcommand("deadletter", "Usage: giveback "+deadletterSynopsis, []string{"list", "show", "replay", "drop"}, args, stdout, stderr)
	if err != nil {
		return err
	}
	var c common
	fs := newFlags("deadletter "+sub, deadletterSynopsis, stderr)
	c.register(fs, true, false)
	asJSON := fs.Bool("json", false, "list: one JSON object per dead letter")
	limit := fs.Int("limit", 100, "list: at most this many, oldest first (0: all)")
	all := fs.Bool("all", false, "replay: every dead letter")
	payload := fs.String("payload", "", "replay: publish this file's content instead of the kept data (one SEQ)")
	cfg, _, err := c.parse(fs, rest)
	if err != nil {
		return err
	}
	seqs, err := parseSeqs(fs.Args())
	if err != nil {
		return err
	}
	switch {
	case sub == "list" && len(seqs) > 0:
		return errors.New("deadletter list takes no sequence (show SEQ prints one)")
	case sub == "show" && len(seqs) != 1:
		return errors.New("deadletter show: give one sequence, as list prints it")
	case sub == "replay" && *all == (len(seqs) > 0):
		return errors.New("deadletter replay: give the sequences to replay, or --all")
	case sub == "replay" && *payload != "" && len(seqs) != 1:
		return errors.New("deadletter replay --payload: give exactly one sequence")
	case sub == "drop" && len(seqs) == 0:
		return errors.New("deadletter drop: give the sequences to drop")
	}
	if cfg.NATS.URL == "" {
		cfg.NATS.URL = "nats://" + cfg.NATS.ListenAddr // a local `giveback up`
	}
	nc, js, err := connectBus(ctx, cfg, "deadletter")
	if err != nil {
		return err
	}
	defer bus.Drain(nc, 5*time.Second)

	switch sub {
	case "list":
		dls, err := bus.DeadLetters(ctx, js, *limit)
		if err != nil {
			return err
		}
		return printDeadLetters(stdout, dls, *asJSON)
	case "show":
		d, err := bus.GetDeadLetter(ctx, js, seqs[0])
		if err != nil {
			return err
		}
		return showDeadLetter(stdout, d)
	case "replay":
		var data []byte
		if *payload != "" {
			if data, err = os.ReadFile(*payload); err != nil {
				return fmt.Errorf("deadletter replay --payload: %w", err)
			}
		}
		if *all {
			dls, err := bus.DeadLetters(ctx, js, 0)
			if err != nil {
				return err
			}
			for _, d := range dls {
				seqs = append(seqs, d.Seq)
			}
		}
		for _, seq := range seqs {
			d, err := bus.ReplayDeadLetter(ctx, js, seq, data)
			if err != nil {
				return fmt.Errorf("deadletter replay: %w (the ones before it are replayed)", err)
			}
			fmt.Fprintf(stdout, "replayed %d to %s (%s %s)\n", seq, d.Subject, d.Source, d.Origin)
		}
		if len(seqs) == 0 {
			fmt.Fprintln(stdout, "no dead letters")
		}
		return nil
	default: // drop
		for _, seq := range seqs {
			if err := bus.DropDeadLetter(ctx, js, seq); err != nil {
				return fmt.Errorf("deadletter drop: %w (the ones before it are dropped)", err)
			}
			fmt.Fprintf(stdout, "dropped %d\n", seq)
		}
		return nil
	}
}

// parseSeqs reads dead-letter sequences, positive integers.
func parseSeqs(args []string) ([]uint64, error) {
	out := make([]uint64, 0, len(args))
	for _, a := range args {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("deadletter: %q is not a dead-letter sequence (a positive integer, as list prints it)", a)
		}
		out = append(out, n)
	}
	return out, nil
}

func printDeadLetters(w io.Writer, dls []bus.DeadLetter, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, d := range dls {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	if len(dls) == 0 {
		fmt.Fprintln(w, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tFAILED AT\tSTAGE\tSOURCE\tORIGIN\tTRIES\tREASON")
	for _, d := range dls {
		reason := d.Reason
		if len(reason) > 80 {
			reason = reason[:77] + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.FailedAt.UTC().Format(time.RFC3339), d.Stage, orDash(d.Source), orDash(d.Origin), d.Deliveries, reason)
	}
	return tw.Flush()
}

func showDeadLetter(w io.Writer, d bus.DeadLetter) error {
	fmt.Fprintf(w, "seq:        %d\nfailed at:  %s\nstage:      %s\nreason:     %s\nsource:     %s\norigin:     %s\nsubject:    %s\nfrom:       %s #%d, after %d deliveries\n\n",
		d.Seq, d.FailedAt.UTC().Format(time.RFC3339), d.Stage, d.Reason, orDash(d.Source), orDash(d.Origin), d.Subject, d.Stream, d.StreamSeq, d.Deliveries)
	_, err := w.Write(append(d.Data, '\n'))
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
