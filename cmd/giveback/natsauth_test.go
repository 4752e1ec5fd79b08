package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/config"
	"giveback.dev/platform/events"
)

// `giveback roster load` reaches a NATS server that requires users with nothing but --nats and
// --data (the data directory of `giveback up`, where the passwords are), and logs in as admin.
// Without the credentials it is refused with a message saying what to give; as the report user
// (nats.user) it may not write the roster.
func TestRosterLoadLogsInAsAdmin(t *testing.T) {
	data := t.TempDir()
	dir := filepath.Join(data, "nats")
	pw, err := bus.LoadOrCreatePasswords(filepath.Join(dir, bus.CredentialsFileName))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bus.StartServer(bus.ServerOptions{Dir: dir, Addr: "127.0.0.1:-1", Passwords: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	t.Setenv("GIVEBACK_NATS_PASSWORD", "")
	rosterFile := filepath.Join(t.TempDir(), "roster.csv")
	const head = "employee_id,name,team,github_logins,emails,start_date,end_date,opt_out\n"
	if err := os.WriteFile(rosterFile, []byte(head+"e1,Alice,core,alice,,2020-01-01,,false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var out, errb bytes.Buffer
	err = run(ctx, []string{"roster", "load", "--nats", srv.URL(), "--data", t.TempDir(), "--roster", rosterFile}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "nats.password_env") {
		t.Fatalf("without credentials: %v; want a refusal naming what to set", err)
	}

	if err := run(ctx, []string{"roster", "load", "--nats", srv.URL(), "--data", data, "--roster", rosterFile}, &out, &errb); err != nil {
		t.Fatalf("with --data: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "roster loaded") {
		t.Fatalf("output %q", out.String())
	}

	// The same command as the report user: logged in, but the roster is not writable.
	cfgFile := filepath.Join(t.TempDir(), "giveback.yaml")
	if err := os.WriteFile(cfgFile, []byte("nats:\n  user: report\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rosterFile, []byte(head+"e2,Bob,core,bob,,2020-01-01,,false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	if err := run(short, []string{"roster", "load", "--config", cfgFile, "--nats", srv.URL(), "--data", data, "--roster", rosterFile}, &out, &errb); err == nil {
		t.Fatal("the report user loaded a roster")
	}
	_, js, err := bus.Connect(srv.URL(), "check", bus.Credentials{User: bus.UserAdmin, Password: pw[bus.UserAdmin]})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, events.KeyRosterCurrent)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(e.Value()), "alice") || strings.Contains(string(e.Value()), "bob") {
		t.Fatalf("stored roster %q; want admin's, not report's", e.Value())
	}
}

// The password of the credentials, and of the environment, may not be an example value.
func TestBusCredentialsRefuseExamples(t *testing.T) {
	cfg := config.Default()
	t.Setenv("GIVEBACK_NATS_PASSWORD", "change-me")
	if _, err := busCredentials(cfg, "ingest"); err == nil || !strings.Contains(err.Error(), "GIVEBACK_NATS_PASSWORD") {
		t.Errorf("example password in the environment: %v", err)
	}
	t.Setenv("GIVEBACK_NATS_PASSWORD", "4f0c1b2e9d8a7f6e5d4c3b2a19080706")
	cr, err := busCredentials(cfg, "backfill")
	if err != nil || cr.User != bus.UserIngest || cr.Password != "4f0c1b2e9d8a7f6e5d4c3b2a19080706" {
		t.Errorf("backfill credentials %+v, %v; want the ingest user with the password", cr, err)
	}
	if u := busUser("tokens"); u != bus.UserAdmin {
		t.Errorf("tokens logs in as %s; want admin", u)
	}
}
