package roster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"

	"giveback.dev/platform/events"
	"giveback.dev/platform/roster"
	"giveback.dev/platform/testkit"
)

// A running instance seeds the bucket with its roster file and company; the seeded roster
// follows the file until `giveback roster load` stores one, which bumps the generation,
// announces only the people who changed against what was there, and is kept from then on.
func TestSeedStoreAndRead(t *testing.T) {
	_, _, js := testkit.NATS(t)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, events.BucketRoster)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, found, err := roster.FromKV(ctx, kv); err != nil || found {
		t.Fatalf("empty bucket: found %t, err %v", found, err)
	}
	if _, found, err := roster.CompanyFromKV(ctx, kv); err != nil || found {
		t.Fatalf("empty bucket: company found %t, err %v", found, err)
	}
	v1 := []byte(head + "e1,Ann,core,ann,,2020-01-01,,false\n")
	v2 := []byte(head + "e1,Ann,core,ann,,2020-01-01,,false\ne2,Bob,web,bob,,2021-01-01,,false\n")
	v3 := []byte(head + "e1,Ann,core,ann,,2020-01-01,,false\ne2,Bob,data,bob,,2021-01-01,,false\n")
	company := events.Company{Name: "Acme", GitHubOrgs: []string{"acme"}, EmailDomains: []string{"acme.com"}}

	if err := roster.Seed(ctx, kv, []byte("not a roster"), company); err == nil {
		t.Fatal("a bad roster was seeded")
	}
	if err := roster.Seed(ctx, kv, v1, company); err != nil {
		t.Fatal(err)
	}
	// A restart with another file: a seeded roster follows it.
	if err := roster.Seed(ctx, kv, v2, company); err != nil {
		t.Fatal(err)
	}
	r, gen, found, err := roster.FromKV(ctx, kv)
	if err != nil || !found || gen != 0 || !slices.Equal(r.Logins(), []string{"ann", "bob"}) {
		t.Fatalf("seeded roster: logins %v, generation %d, found %t, err %v", r.Logins(), gen, found, err)
	}
	co, found, err := roster.CompanyFromKV(ctx, kv)
	if err != nil || !found || co.Schema != events.SchemaCompany || !slices.Equal(co.GitHubOrgs, []string{"acme"}) || co.Name != "Acme" {
		t.Fatalf("company %+v, found %t, err %v", co, found, err)
	}

	var announced [][]byte
	announce := func(_ context.Context, _ string, data []byte) error {
		announced = append(announced, data)
		return nil
	}
	// Loading the seeded file changes nothing; loading another announces who changed.
	if ch, err := roster.Store(ctx, kv, v2, announce); err != nil || ch != nil || len(announced) != 0 {
		t.Fatalf("loading the seeded roster: change %+v, err %v", ch, err)
	}
	ch, err := roster.Store(ctx, kv, v3, announce)
	if err != nil || ch == nil || !slices.Equal(ch.Logins, []string{"bob"}) || len(announced) != 1 {
		t.Fatalf("loading a new roster: change %+v, %d announced, err %v", ch, len(announced), err)
	}
	var sent events.RosterChange
	if err := json.Unmarshal(announced[0], &sent); err != nil || sent.Schema != events.SchemaRoster || sent.Digest != ch.Digest {
		t.Fatalf("announced %s: %v", announced[0], err)
	}
	// A loaded roster is kept when the instance restarts with its file.
	if err := roster.Seed(ctx, kv, v1, company); err != nil {
		t.Fatal(err)
	}
	r, gen, _, err = roster.FromKV(ctx, kv)
	if err != nil || gen != 1 || r.Digest != ch.Digest {
		t.Fatalf("after a seed over a loaded roster: generation %d, digest %s, err %v", gen, r.Digest, err)
	}
	file, err := roster.Parse(bytes.NewReader(v1))
	if err != nil {
		t.Fatal(err)
	}
	if r, gen, err := roster.Starting(ctx, kv, file, slog.New(slog.DiscardHandler)); err != nil || gen != 1 || r.Digest != ch.Digest {
		t.Fatalf("Starting: generation %d, err %v", gen, err)
	}
}
