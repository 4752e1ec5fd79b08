package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// OpenClaims returns the claims bucket (events.BucketReportClaims), creating it when absent.
func OpenClaims(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, events.BucketReportClaims)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("reports: bucket %s: %w", events.BucketReportClaims, err)
	}
	kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: events.BucketReportClaims, History: 1, Replicas: max(replicas, 1),
		Description: "claims on the deliveries of scheduled reports, one sender each",
	})
	if err != nil {
		return nil, fmt.Errorf("reports: bucket %s: %w", events.BucketReportClaims, err)
	}
	return kv, nil
}

// claims takes, renews and settles the claims of one replica.
type claims struct {
	kv      jetstream.KeyValue
	replica string
	ttl     time.Duration
}

// claim is a claim this replica holds, with the revision it last wrote.
type claim struct {
	key   string
	rev   uint64
	value events.ReportClaim
}

// errLost is returned when a claim was taken over or settled by another replica.
var errLost = errors.New("reports: the claim was taken over by another replica")

// get reads a claim; ok is false when there is none.
func (c *claims) get(ctx context.Context, key string) (events.ReportClaim, uint64, bool, error) {
	e, err := c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.ReportClaim{}, 0, false, nil
	}
	if err != nil {
		return events.ReportClaim{}, 0, false, fmt.Errorf("reports: claim %s: %w", key, err)
	}
	var v events.ReportClaim
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return v, e.Revision(), true, fmt.Errorf("reports: claim %s: %w", key, err)
	}
	return v, e.Revision(), true, nil
}

// take claims key at now, and reports whether this replica holds it: it is created if absent,
// or replaced with a compare-and-set when it is a sending claim that expired, or whatever its
// state when force is set. A done or failed claim is left alone without force.
func (c *claims) take(ctx context.Context, key string, now time.Time, force bool) (*claim, bool, error) {
	v := events.ReportClaim{State: events.ClaimSending, Owner: c.replica, Claimed: now.UTC(), Expires: now.Add(c.ttl).UTC()}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false, err
	}
	rev, err := c.kv.Create(ctx, key, b)
	if err == nil {
		return &claim{key: key, rev: rev, value: v}, true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, fmt.Errorf("reports: claim %s: %w", key, err)
	}
	old, oldRev, ok, err := c.get(ctx, key)
	if err != nil && oldRev == 0 {
		return nil, false, err
	}
	if !ok {
		// Deleted in between: try once more from the start.
		rev, err := c.kv.Create(ctx, key, b)
		if err != nil {
			return nil, false, nil
		}
		return &claim{key: key, rev: rev, value: v}, true, nil
	}
	expired := old.State == events.ClaimSending && now.After(old.Expires)
	if !force && !expired {
		return nil, false, nil
	}
	v.Attempts = old.Attempts
	if b, err = json.Marshal(v); err != nil {
		return nil, false, err
	}
	rev, err = c.kv.Update(ctx, key, b, oldRev)
	if err != nil {
		// Another replica took it first.
		return nil, false, nil
	}
	return &claim{key: key, rev: rev, value: v}, true, nil
}

// renew records an attempt and pushes the claim's expiry to now+ttl; errLost when another
// replica holds it now.
func (c *claims) renew(ctx context.Context, cl *claim, now time.Time) error {
	cl.value.Attempts++
	cl.value.Expires = now.Add(c.ttl).UTC()
	return c.write(ctx, cl)
}

// settle marks the claim done (err nil) or failed.
func (c *claims) settle(ctx context.Context, cl *claim, now time.Time, sendErr error) error {
	cl.value.State, cl.value.Error = events.ClaimDone, ""
	if sendErr != nil {
		cl.value.State, cl.value.Error = events.ClaimFailed, sendErr.Error()
	}
	cl.value.Done = now.UTC()
	return c.write(ctx, cl)
}

// release gives a claim up without a send (the report could not be built), so that the next
// tick of any replica takes it again.
func (c *claims) release(ctx context.Context, cl *claim) error {
	if err := c.kv.Delete(ctx, cl.key, jetstream.LastRevision(cl.rev)); err != nil {
		return fmt.Errorf("reports: release claim %s: %w", cl.key, err)
	}
	return nil
}

func (c *claims) write(ctx context.Context, cl *claim) error {
	b, err := json.Marshal(cl.value)
	if err != nil {
		return err
	}
	rev, err := c.kv.Update(ctx, cl.key, b, cl.rev)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			return errLost
		}
		return fmt.Errorf("reports: claim %s: %w", cl.key, err)
	}
	cl.rev = rev
	return nil
}

// archiveWait is how long a replica waits between looks at a marker another replica is
// writing.
const archiveWait = 100 * time.Millisecond

// archiveTurn decides whether this replica archives the run of (report, period) whose numbers
// have hash: true with the marker's revision when it took the marker (KeyReportArchived), false
// when the same numbers are archived already. While another replica is writing, it waits for it
// to finish, or for its marker to expire (that replica died) and takes it over. A run whose
// numbers differ from those archived, and a forced run, take the marker and are archived too.
func (c *claims) archiveTurn(ctx context.Context, report, period, hash string, clock func() time.Time, force bool) (bool, uint64, error) {
	key := events.KeyReportArchived(report, period)
	ttl := min(c.ttl, time.Minute)
	for {
		now := clock()
		v := events.ReportArchived{State: events.ArchiveWriting, Owner: c.replica, Hash: hash, Claimed: now.UTC(), Expires: now.Add(ttl).UTC()}
		b, err := json.Marshal(v)
		if err != nil {
			return false, 0, err
		}
		rev, err := c.kv.Create(ctx, key, b)
		if err == nil {
			return true, rev, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, 0, fmt.Errorf("reports: archive marker %s: %w", key, err)
		}
		e, err := c.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released in between
		}
		if err != nil {
			return false, 0, fmt.Errorf("reports: archive marker %s: %w", key, err)
		}
		var old events.ReportArchived
		if err := json.Unmarshal(e.Value(), &old); err != nil {
			return false, 0, fmt.Errorf("reports: archive marker %s: %w", key, err)
		}
		switch {
		case old.State == events.ArchiveWriting && !now.After(old.Expires) && old.Owner != c.replica:
			select {
			case <-ctx.Done():
				return false, 0, ctx.Err()
			case <-time.After(archiveWait):
			}
			continue
		case old.State == events.ArchiveDone && old.Hash == hash && !force:
			return false, 0, nil
		}
		rev, err = c.kv.Update(ctx, key, b, e.Revision())
		if err == nil {
			return true, rev, nil
		}
		// Another replica changed it first: look again.
	}
}

// archived marks the marker taken by archiveTurn done: the run with hash is in the archive.
func (c *claims) archived(ctx context.Context, report, period, hash string, rev uint64, now time.Time) error {
	b, err := json.Marshal(events.ReportArchived{State: events.ArchiveDone, Owner: c.replica, Hash: hash, Claimed: now.UTC(), Expires: now.UTC()})
	if err != nil {
		return err
	}
	if _, err := c.kv.Update(ctx, events.KeyReportArchived(report, period), b, rev); err != nil {
		return fmt.Errorf("reports: archive marker: %w", err)
	}
	return nil
}

// archiveFailed gives the marker up after a failed write, so that another replica archives it.
func (c *claims) archiveFailed(ctx context.Context, report, period string, rev uint64) error {
	return c.kv.Delete(ctx, events.KeyReportArchived(report, period), jetstream.LastRevision(rev))
}
