package bus_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/bus"
	"giveback.dev/platform/events"
)

// secureServer starts an embedded server requiring the generated passwords and declares the
// streams as the administrator.
func secureServer(t *testing.T) (*bus.Embedded, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	pw, err := bus.LoadOrCreatePasswords(filepath.Join(dir, bus.CredentialsFileName))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bus.StartServer(bus.ServerOptions{Dir: dir, Addr: "127.0.0.1:-1", Passwords: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv, pw
}

func connectAs(t *testing.T, srv *bus.Embedded, pw map[string]string, user string) jetstream.JetStream {
	t.Helper()
	nc, js, err := bus.Connect(srv.URL(), "test-"+user, bus.Credentials{User: user, Password: pw[user]})
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return js
}

// opWait bounds one operation; a refused publish is seen as a request without a reply, so the
// refused cases wait less.
var opWait = 2 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), opWait)
	t.Cleanup(cancel)
	return ctx
}

// The generated passwords are kept private and reused at the next start.
func TestPasswordsFileReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nats", bus.CredentialsFileName)
	a, err := bus.LoadOrCreatePasswords(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", st.Mode().Perm())
	}
	b, err := bus.LoadOrCreatePasswords(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, u := range bus.Users {
		if len(a[u]) < 16 || a[u] != b[u] {
			t.Errorf("user %s: password %q then %q; want one random password kept", u, a[u], b[u])
		}
		if seen[a[u]] {
			t.Errorf("user %s shares its password with another user", u)
		}
		seen[a[u]] = true
	}
}

// Anonymous clients and wrong passwords are refused.
func TestAnonymousRefused(t *testing.T) {
	srv, pw := secureServer(t)
	for name, cr := range map[string]bus.Credentials{
		"anonymous":      {},
		"wrong password": {User: bus.UserAdmin, Password: pw[bus.UserAdmin] + "x"},
		"unknown user":   {User: "mallory", Password: pw[bus.UserAdmin]},
	} {
		nc, _, err := bus.Connect(srv.URL(), "test", cr)
		if err == nil {
			nc.Close()
			t.Errorf("%s: connected; want refused", name)
			continue
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("%s: %v; want an authorization error", name, err)
		}
	}
}

// Each user can do what its service does and nothing it does not: the permissions are those the
// server enforces, checked by doing each operation for real.
func TestPermissionsEnforced(t *testing.T) {
	srv, pw := secureServer(t)
	admin := connectAs(t, srv, pw, bus.UserAdmin)
	if err := bus.EnsureStreams(ctxT(t), admin, bus.StreamOptions{}); err != nil {
		t.Fatalf("admin declares the streams: %v", err)
	}
	kvAdmin, err := admin.KeyValue(ctxT(t), events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvAdmin.Put(ctxT(t), events.KeyRosterCurrent, []byte("login,employee_id\n")); err != nil {
		t.Fatalf("admin writes the roster: %v", err)
	}
	kvRepos, err := admin.KeyValue(ctxT(t), events.BucketWatchedRepos)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvRepos.Put(ctxT(t), events.KeyTotalsRepos, []byte(`["a/b"]`)); err != nil {
		t.Fatalf("admin writes the watched repositories: %v", err)
	}
	if _, err := admin.CreateOrUpdateKeyValue(ctxT(t), jetstream.KeyValueConfig{Bucket: events.BucketTokens}); err != nil {
		t.Fatalf("admin declares the token bucket: %v", err)
	}

	pub := func(js jetstream.JetStream, subject string) error {
		_, err := js.Publish(ctxT(t), subject, []byte(`{}`))
		return err
	}
	put := func(js jetstream.JetStream, bucket, key string) error {
		kv, err := js.KeyValue(ctxT(t), bucket)
		if err != nil {
			return err
		}
		_, err = kv.Put(ctxT(t), key, []byte("x"))
		return err
	}
	get := func(js jetstream.JetStream, bucket, key string) error {
		kv, err := js.KeyValue(ctxT(t), bucket)
		if err != nil {
			return err
		}
		_, err = kv.Get(ctxT(t), key)
		return err
	}
	list := func(js jetstream.JetStream, bucket string) error {
		kv, err := js.KeyValue(ctxT(t), bucket)
		if err != nil {
			return err
		}
		l, err := kv.ListKeys(ctxT(t))
		if err != nil {
			return err
		}
		n := 0
		for range l.Keys() {
			n++
		}
		if n == 0 {
			return errors.New("no keys listed")
		}
		return nil
	}
	watch := func(js jetstream.JetStream) error {
		kv, err := js.KeyValue(ctxT(t), events.BucketRoster)
		if err != nil {
			return err
		}
		w, err := kv.Watch(ctxT(t), events.KeyRosterCurrent)
		if err != nil {
			return err
		}
		defer w.Stop()
		select {
		case e := <-w.Updates():
			if e == nil {
				return errors.New("watch: no current value")
			}
			return nil
		case <-time.After(2 * time.Second):
			return errors.New("watch: nothing delivered")
		}
	}
	consumeOne := func(js jetstream.JetStream, stream, subject string) error {
		c, err := js.CreateOrUpdateConsumer(ctxT(t), stream, jetstream.ConsumerConfig{
			Durable: "perm-" + stream, FilterSubject: subject, AckPolicy: jetstream.AckExplicitPolicy,
		})
		if err != nil {
			return err
		}
		b, err := c.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		for m := range b.Messages() {
			return m.DoubleAck(ctxT(t))
		}
		if b.Error() != nil {
			return b.Error()
		}
		return errors.New("no message fetched")
	}
	ensure := func(js jetstream.JetStream) error { return bus.EnsureStreams(ctxT(t), js, bus.StreamOptions{}) }
	tokens := func(js jetstream.JetStream) error {
		kv, err := js.KeyValue(ctxT(t), events.BucketTokens)
		if err != nil {
			return err
		}
		_, err = kv.Put(ctxT(t), "t", []byte("x"))
		return err
	}

	// answers subscribes as the given service to the forget subject, replies to one request, and
	// reports whether the administrator's request got that reply.
	answers := func(js jetstream.JetStream) error {
		sub, err := js.Conn().QueueSubscribe(events.SubjectForget, "forget", func(m *nats.Msg) {
			_ = m.Respond([]byte("done"))
		})
		if err != nil {
			return err
		}
		defer sub.Unsubscribe()
		if err := js.Conn().Flush(); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond) // a refused subscription is reported asynchronously
		msg, err := admin.Conn().Request(events.SubjectForget, []byte("{}"), opWait)
		if err != nil {
			return err
		}
		if string(msg.Data) != "done" {
			return errors.New("unexpected reply")
		}
		return nil
	}

	ingest := connectAs(t, srv, pw, bus.UserIngest)
	enrich := connectAs(t, srv, pw, bus.UserEnrich)
	report := connectAs(t, srv, pw, bus.UserReport)
	if err := pub(admin, events.SubjectHydrate); err != nil {
		t.Fatal(err)
	}
	if err := pub(admin, events.SubjectRoster); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		op   func() error
		ok   bool
	}{
		{"ingest declares the streams", func() error { return ensure(ingest) }, true},
		{"ingest publishes raw", func() error { return pub(ingest, events.SubjectRaw(events.SourceWebhook)) }, true},
		{"ingest writes a cursor", func() error { return put(ingest, events.BucketCursors, events.KeyRESTCursor("author", "x")) }, true},
		{"ingest writes an ETag", func() error { return put(ingest, events.BucketCursors, events.KeyETag("https://api.github.com/x")) }, true},
		{"ingest marks an hour done", func() error { return put(ingest, events.BucketCursors, events.KeyHourDone(time.Now())) }, true},
		{"ingest writes a status", func() error { return put(ingest, events.BucketStatus, events.KeyStatusREST("x")) }, true},
		{"ingest watches an open pull request", func() error { return put(ingest, events.BucketHydrateWatch, events.KeyHydrateOpen("a/b", 1)) }, true},
		{"ingest reads the watched repositories", func() error { return list(ingest, events.BucketWatchedRepos) }, true},
		{"ingest writes a roster key in the cursor bucket", func() error { return put(ingest, events.BucketCursors, events.KeyRosterCurrent) }, false},
		{"ingest reads the roster", func() error { return get(ingest, events.BucketRoster, events.KeyRosterCurrent) }, true},
		{"ingest watches the roster", func() error { return watch(ingest) }, true},
		{"ingest consumes hydration requests", func() error { return consumeOne(ingest, events.StreamControl, events.SubjectHydrate) }, true},
		{"ingest writes the roster", func() error { return put(ingest, events.BucketRoster, events.KeyRosterCurrent) }, false},
		{"ingest writes the watched repositories", func() error { return put(ingest, events.BucketWatchedRepos, events.KeyTotalsRepos) }, false},
		{"ingest publishes a contribution", func() error { return pub(ingest, events.SubjectContribution) }, false},
		{"ingest announces a roster", func() error { return pub(ingest, events.SubjectRoster) }, false},

		{"enrich declares the streams", func() error { return ensure(enrich) }, true},
		{"enrich publishes a contribution", func() error { return pub(enrich, events.SubjectContribution) }, true},
		{"enrich asks for hydration", func() error { return pub(enrich, events.SubjectHydrate) }, true},
		{"enrich writes the watched repositories", func() error { return put(enrich, events.BucketWatchedRepos, events.KeyTotalsRepos) }, true},
		{"enrich consumes the raw stream", func() error { return consumeOne(enrich, events.StreamRaw, events.SubjectRawAll) }, true},
		{"enrich consumes roster changes", func() error { return consumeOne(enrich, events.StreamControl, events.SubjectRoster) }, true},
		{"enrich watches the roster", func() error { return watch(enrich) }, true},
		{"enrich publishes raw", func() error { return pub(enrich, events.SubjectRaw(events.SourceGHArchive)) }, false},
		{"enrich writes the roster", func() error { return put(enrich, events.BucketRoster, events.KeyRosterGeneration) }, false},
		{"enrich writes the watched repositories in the cursor bucket", func() error { return put(enrich, events.BucketCursors, events.KeyTotalsRepos) }, false},
		{"enrich writes a status", func() error { return put(enrich, events.BucketStatus, events.KeyStatusHydration) }, false},
		{"enrich writes a cursor", func() error { return put(enrich, events.BucketCursors, events.KeyRESTCursor("author", "x")) }, false},
		{"enrich announces a roster", func() error { return pub(enrich, events.SubjectRoster) }, false},

		{"report reads a cursor", func() error { return get(report, events.BucketCursors, events.KeyRESTCursor("author", "x")) }, true},
		{"report reads a status", func() error { return get(report, events.BucketStatus, events.KeyStatusREST("x")) }, true},
		{"report lists the statuses", func() error { return list(report, events.BucketStatus) }, true},
		{"report writes a status", func() error { return put(report, events.BucketStatus, events.KeyStatusREST("x")) }, false},
		{"report lists the cursors", func() error { return list(report, events.BucketCursors) }, true},
		{"report watches the token bucket", func() error {
			kv, err := report.KeyValue(ctxT(t), events.BucketTokens)
			if err != nil {
				return err
			}
			_, err = kv.Get(ctxT(t), "t")
			return err
		}, true},
		{"report reads the roster", func() error { return get(report, events.BucketRoster, events.KeyRosterCurrent) }, true},
		{"report writes the roster", func() error { return put(report, events.BucketRoster, events.KeyRosterCurrent) }, false},
		{"report writes a cursor", func() error { return put(report, events.BucketCursors, events.KeyRESTCursor("author", "x")) }, false},
		{"report writes a token", func() error { return tokens(report) }, false},
		{"report publishes raw", func() error { return pub(report, events.SubjectRaw(events.SourceWebhook)) }, false},
		{"report declares the streams", func() error { return ensure(report) }, false},
		{"report consumes the raw stream", func() error { return consumeOne(report, events.StreamRaw, events.SubjectRawAll) }, false},

		{"ingest writes a token", func() error { return tokens(ingest) }, false},
		{"enrich writes a token", func() error { return tokens(enrich) }, false},
		{"ingest reads the token bucket", func() error {
			kv, err := ingest.KeyValue(ctxT(t), events.BucketTokens)
			if err != nil {
				return err
			}
			_, err = kv.Get(ctxT(t), "t")
			return err
		}, true},
		{"ingest records a webhook body", func() error {
			kv, err := ingest.CreateOrUpdateKeyValue(ctxT(t), jetstream.KeyValueConfig{Bucket: events.BucketWebhookBodies})
			if err != nil {
				return err
			}
			_, err = kv.Create(ctxT(t), "abc", []byte("d-1"))
			return err
		}, true},
		{"enrich records a webhook body", func() error {
			kv, err := enrich.KeyValue(ctxT(t), events.BucketWebhookBodies)
			if err != nil {
				return err
			}
			_, err = kv.Put(ctxT(t), "abd", []byte("d-1"))
			return err
		}, false},
		{"enrich answers a forget request", func() error { return answers(enrich) }, true},
		{"ingest answers a forget request", func() error { return answers(ingest) }, false},
		{"report answers a forget request", func() error { return answers(report) }, false},
		{"admin writes a token", func() error { return tokens(admin) }, true},
	}
	// The token read needs a token first.
	if err := tokens(admin); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		opWait = 2 * time.Second
		if !c.ok {
			opWait = 300 * time.Millisecond
		}
		err := c.op()
		t.Logf("%s: %v", c.name, err)
		if c.ok && err != nil {
			t.Errorf("%s: %v; want allowed", c.name, err)
		}
		if !c.ok && err == nil {
			t.Errorf("%s: allowed; want refused", c.name)
		}
	}
	// Nothing refused reached a stream: the raw stream holds only ingest's record.
	st, err := admin.Stream(ctxT(t), events.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("raw stream holds %d messages; want the 1 ingest published", info.State.Msgs)
	}
}
