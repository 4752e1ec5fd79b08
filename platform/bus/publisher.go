package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Publisher publishes raw records asynchronously with their message id, so JetStream drops a
// repeat. Publish does not wait for the ack; Flush does, counts what was stored and what
// JetStream dropped as a repeat, and reports the first failure.
type Publisher struct {
	js jetstream.JetStream

	mu      sync.Mutex
	pending []jetstream.PubAckFuture
	buf     []byte

	published  atomic.Int64
	duplicates atomic.Int64
}

// NewPublisher returns a publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher { return &Publisher{js: js} }

// Publish sends one raw record on giveback.raw.<source>, asynchronously.
func (p *Publisher) Publish(ctx context.Context, r *events.Raw) error {
	p.mu.Lock()
	p.buf = events.AppendRaw(p.buf[:0], r)
	data := append([]byte(nil), p.buf...)
	p.mu.Unlock()
	return p.PublishData(ctx, events.SubjectRaw(r.Source), r.MsgID(), data)
}

// PublishSync sends one raw record and waits for JetStream to store it (or to report it a
// duplicate): for callers that must not answer before the record is durable, like a webhook.
func (p *Publisher) PublishSync(ctx context.Context, r *events.Raw) error {
	data := events.AppendRaw(nil, r)
	ack, err := p.js.Publish(ctx, events.SubjectRaw(r.Source), data, jetstream.WithMsgID(r.MsgID()))
	if err != nil {
		return fmt.Errorf("bus: publish %s: %w", r.MsgID(), err)
	}
	p.count(ack)
	return nil
}

func (p *Publisher) count(ack *jetstream.PubAck) {
	if ack.Duplicate {
		p.duplicates.Add(1)
	} else {
		p.published.Add(1)
	}
}

// PublishData sends an encoded message with a message id, asynchronously. When too many
// publishes are unacknowledged it waits for room.
func (p *Publisher) PublishData(ctx context.Context, subject, msgID string, data []byte) error {
	for {
		f, err := p.js.PublishAsync(subject, data, jetstream.WithMsgID(msgID))
		if err == nil {
			p.mu.Lock()
			p.pending = append(p.pending, f)
			p.mu.Unlock()
			return nil
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fmt.Errorf("bus: publish %s: %w", msgID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.js.PublishAsyncComplete():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Flush waits until every publish so far was acknowledged and returns the first failure.
func (p *Publisher) Flush(ctx context.Context) error {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	var first error
	for _, f := range pending {
		select {
		case ack := <-f.Ok():
			p.count(ack)
		case err := <-f.Err():
			if first == nil {
				first = fmt.Errorf("bus: publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return first
}

// Counts returns how many messages were stored and how many JetStream dropped as repeats, as
// of the last Flush.
func (p *Publisher) Counts() (published, duplicates int64) {
	return p.published.Load(), p.duplicates.Load()
}
