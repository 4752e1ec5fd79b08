package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// Publisher publishes raw records asynchronously with their message id, so JetStream drops a
// repeat. Publish does not wait for the ack; Flush does, and reports the first failure.
type Publisher struct {
	js jetstream.JetStream

	mu       sync.Mutex
	firstErr error

	published  atomic.Int64
	duplicates atomic.Int64
}

// NewPublisher returns a publisher on js.
func NewPublisher(js jetstream.JetStream) *Publisher { return &Publisher{js: js} }

// Publish sends one raw record on giveback.raw.<source>.
func (p *Publisher) Publish(ctx context.Context, r *events.Raw) error {
	if r.Schema == "" {
		r.Schema = events.SchemaRaw
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bus: encode raw %s: %w", r.MsgID(), err)
	}
	return p.PublishData(ctx, events.SubjectRaw(r.Source), r.MsgID(), data)
}

// PublishSync sends one raw record and waits for JetStream to store it (or to report it a
// duplicate): for callers that must not answer before the record is durable, like a webhook.
func (p *Publisher) PublishSync(ctx context.Context, r *events.Raw) error {
	if r.Schema == "" {
		r.Schema = events.SchemaRaw
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bus: encode raw %s: %w", r.MsgID(), err)
	}
	ack, err := p.js.Publish(ctx, events.SubjectRaw(r.Source), data, jetstream.WithMsgID(r.MsgID()))
	if err != nil {
		return fmt.Errorf("bus: publish %s: %w", r.MsgID(), err)
	}
	if ack.Duplicate {
		p.duplicates.Add(1)
	} else {
		p.published.Add(1)
	}
	return nil
}

// PublishData sends an encoded message with a message id, asynchronously.
func (p *Publisher) PublishData(ctx context.Context, subject, msgID string, data []byte) error {
	for {
		f, err := p.js.PublishAsync(subject, data, jetstream.WithMsgID(msgID))
		if err == nil {
			go p.watch(f)
			return nil
		}
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fmt.Errorf("bus: publish %s: %w", msgID, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.js.PublishAsyncComplete():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *Publisher) watch(f jetstream.PubAckFuture) {
	select {
	case ack := <-f.Ok():
		if ack.Duplicate {
			p.duplicates.Add(1)
		} else {
			p.published.Add(1)
		}
	case err := <-f.Err():
		p.mu.Lock()
		if p.firstErr == nil {
			p.firstErr = fmt.Errorf("bus: publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
		}
		p.mu.Unlock()
	}
}

// Flush waits until every publish so far was acknowledged, and returns the first failure.
func (p *Publisher) Flush(ctx context.Context) error {
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.firstErr
	p.firstErr = nil
	return err
}

// Counts returns how many messages were stored and how many JetStream dropped as repeats.
func (p *Publisher) Counts() (published, duplicates int64) {
	return p.published.Load(), p.duplicates.Load()
}
