package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
	"giveback.dev/platform/testkit"
)

// An operator lists the dead letters, shows one with its data, replays it onto its original
// subject (once: it leaves the dead-letter stream) and is told clearly what to fix in a bad
// command line.
func TestDeadletterCommand(t *testing.T) {
	srv, _, js := testkit.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	subject := events.SubjectRaw(events.SourceGHArchive)
	if _, err := js.Publish(ctx, subject, []byte(`{"poison":true}`)); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateConsumer(ctx, events.StreamRaw, jetstream.ConsumerConfig{Durable: "dl-test", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.PublishDeadLetter(ctx, js, bus.DeadLetterFrom(m, "map", "mapper: payload.pull_request.user.login: missing", events.SourceGHArchive, "2025-01-01-15.json.gz:7")); err != nil {
		t.Fatal(err)
	}
	dl := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append(append([]string{"deadletter"}, args[0], "--nats", srv.URL(), "--log-level", "error"), args[1:]...), &out, &errb)
		return out.String(), err
	}

	out, err := dl("list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"map", "gharchive", "2025-01-01-15.json.gz:7", "payload.pull_request.user.login"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}
	out, err = dl("list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var d bus.DeadLetter
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if d.Seq != 1 || d.Subject != subject || d.Stream != events.StreamRaw || d.StreamSeq != 1 || d.Deliveries != 1 {
		t.Errorf("list --json: %+v", d)
	}
	out, err = dl("show", "1")
	if err != nil || !strings.Contains(out, `{"poison":true}`) || !strings.Contains(out, "reason:     mapper:") {
		t.Errorf("show 1: %v\n%s", err, out)
	}

	if out, err = dl("replay", "1"); err != nil || !strings.Contains(out, "replayed 1 to "+subject) {
		t.Fatalf("replay 1: %v\n%s", err, out)
	}
	st, err := js.Stream(ctx, events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetMsg(ctx, 2)
	if err != nil || string(got.Data) != `{"poison":true}` || got.Subject != subject {
		t.Fatalf("the replay is not the raw stream's next message: %v %+v", err, got)
	}
	if out, err = dl("list"); err != nil || !strings.Contains(out, "no dead letters") {
		t.Errorf("list after the replay: %v\n%s", err, out)
	}

	for args, want := range map[string]string{
		"replay 1":               "no such dead letter",
		"replay":                 "give the sequences to replay, or --all",
		"show x":                 `"x" is not a dead-letter sequence`,
		"show 0":                 `"0" is not a dead-letter sequence`,
		"drop":                   "give the sequences to drop",
		"undo 1":                 `unknown subcommand "undo"`,
		"list 3":                 "list takes no sequence",
		"replay --payload f 1 2": "give exactly one sequence",
	} {
		a := strings.Fields(args)
		if _, err := dl(a...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("deadletter %s: %v, want an error saying %q", args, err, want)
		}
	}
}

// FuzzParseSeqs: a sequence is accepted exactly when it is a positive decimal integer.
func FuzzParseSeqs(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "18446744073709551615", "18446744073709551616", "x", "", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seqs, err := parseSeqs([]string{s})
		n, perr := strconv.ParseUint(s, 10, 64)
		if ok := perr == nil && n > 0; ok != (err == nil) {
			t.Fatalf("parseSeqs(%q): %v; ParseUint %d, %v", s, err, n, perr)
		}
		if err == nil && (len(seqs) != 1 || seqs[0] != n) {
			t.Fatalf("parseSeqs(%q) = %v", s, seqs)
		}
		if err != nil && !strings.Contains(err.Error(), "dead-letter sequence") {
			t.Fatalf("parseSeqs(%q): %v does not say what a sequence is", s, err)
		}
	})
}
