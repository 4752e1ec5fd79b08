package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"giveback.dev/platform/events"
)

// The headers of a dead letter. Its data is the original message's, unchanged.
const (
	hdrSubject    = "Giveback-Subject"
	hdrStream     = "Giveback-Stream"
	hdrStreamSeq  = "Giveback-Stream-Seq"
	hdrDeliveries = "Giveback-Deliveries"
	hdrStage      = "Giveback-Stage"
	hdrReason     = "Giveback-Reason"
	hdrSource     = "Giveback-Source"
	hdrOrigin     = "Giveback-Origin"
	hdrFailedAt   = "Giveback-Failed-At"
)

// DeadLetter is a message a consumer gave up on, kept in StreamDeadLetter with why.
type DeadLetter struct {
	Seq        uint64    `json:"seq"` // its sequence in the dead-letter stream (0 before it is kept)
	FailedAt   time.Time `json:"failed_at"`
	Subject    string    `json:"subject"`    // where the original was published, and a replay goes
	Stream     string    `json:"stream"`     // the stream and sequence of the original
	StreamSeq  uint64    `json:"stream_seq"` //
	Deliveries uint64    `json:"deliveries"` // how often it was tried
	Stage      string    `json:"stage"`      // what failed: decode, map, store, …
	Reason     string    `json:"reason"`     // the error
	Source     string    `json:"source"`     // the record's source (gharchive, rest, webhook), when known
	Origin     string    `json:"origin"`     // where the record came from (file and line, delivery id), when known
	Data       []byte    `json:"-"`
}

// DeadLetterFrom describes m, given up on at stage for reason; source and origin may be empty
// when the message could not be decoded.
func DeadLetterFrom(m jetstream.Msg, stage, reason, source, origin string) DeadLetter {
	d := DeadLetter{FailedAt: time.Now().UTC(), Subject: m.Subject(), Stage: stage, Reason: reason, Source: source, Origin: origin, Data: m.Data()}
	if md, err := m.Metadata(); err == nil {
		d.Stream, d.StreamSeq, d.Deliveries = md.Stream, md.Sequence.Stream, md.NumDelivered
	}
	return d
}

// subject is where the dead letter is kept: by source, "unknown" when there is none.
func (d DeadLetter) subject() string {
	src := d.Source
	if src == "" || !validToken(src) {
		src = "unknown"
	}
	return events.SubjectDeadLetterPrefix + src
}

func validToken(s string) bool {
	for _, c := range s {
		if c <= ' ' || c == '.' || c == '*' || c == '>' || c > '~' {
			return false
		}
	}
	return true
}

// PublishDeadLetter keeps d in the dead-letter stream and waits until the server has it. The
// message id is the original's stream and sequence, so dead-lettering a message twice keeps it
// once.
func PublishDeadLetter(ctx context.Context, js jetstream.JetStream, d DeadLetter) error {
	m := nats.NewMsg(d.subject())
	m.Data = d.Data
	m.Header.Set(hdrSubject, d.Subject)
	m.Header.Set(hdrStream, d.Stream)
	m.Header.Set(hdrStreamSeq, strconv.FormatUint(d.StreamSeq, 10))
	m.Header.Set(hdrDeliveries, strconv.FormatUint(d.Deliveries, 10))
	m.Header.Set(hdrStage, d.Stage)
	m.Header.Set(hdrReason, d.Reason)
	m.Header.Set(hdrSource, d.Source)
	m.Header.Set(hdrOrigin, d.Origin)
	m.Header.Set(hdrFailedAt, d.FailedAt.Format(time.RFC3339Nano))
	id := "deadletter:" + d.Stream + ":" + strconv.FormatUint(d.StreamSeq, 10)
	if _, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("bus: dead-letter %s: %w", id, err)
	}
	return nil
}

// deadLetterOf reads a stored dead letter.
func deadLetterOf(m *jetstream.RawStreamMsg) DeadLetter {
	h := m.Header
	d := DeadLetter{Seq: m.Sequence, Subject: h.Get(hdrSubject), Stream: h.Get(hdrStream), Stage: h.Get(hdrStage),
		Reason: h.Get(hdrReason), Source: h.Get(hdrSource), Origin: h.Get(hdrOrigin), Data: m.Data}
	d.StreamSeq, _ = strconv.ParseUint(h.Get(hdrStreamSeq), 10, 64)   // absent or bad: 0, shown as such
	d.Deliveries, _ = strconv.ParseUint(h.Get(hdrDeliveries), 10, 64) // absent or bad: 0, shown as such
	if t, err := time.Parse(time.RFC3339Nano, h.Get(hdrFailedAt)); err == nil {
		d.FailedAt = t
	} else {
		d.FailedAt = m.Time.UTC()
	}
	return d
}

// ErrNoDeadLetter is returned for a sequence the dead-letter stream does not hold (never kept,
// replayed or dropped).
var ErrNoDeadLetter = errors.New("no such dead letter")

// DeadLetters returns the dead letters kept, oldest first, at most limit (0: all).
func DeadLetters(ctx context.Context, js jetstream.JetStream, limit int) ([]DeadLetter, error) {
	st, err := js.Stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("bus: dead letters: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("bus: dead letters: %w", err)
	}
	var out []DeadLetter
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if limit > 0 && len(out) >= limit {
			break
		}
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // replayed or dropped
		}
		if err != nil {
			return nil, fmt.Errorf("bus: dead letter %d: %w", seq, err)
		}
		out = append(out, deadLetterOf(m))
	}
	return out, nil
}

// GetDeadLetter returns the dead letter of sequence seq, or ErrNoDeadLetter.
func GetDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) (DeadLetter, error) {
	st, err := js.Stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("bus: dead letters: %w", err)
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return DeadLetter{}, fmt.Errorf("bus: dead letter %d: %w", seq, ErrNoDeadLetter)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("bus: dead letter %d: %w", seq, err)
	}
	return deadLetterOf(m), nil
}

// ReplayDeadLetter publishes the dead letter of sequence seq again on its original subject, with
// data in place of its own when data is not nil (an operator's fix), and then removes it from
// the dead-letter stream. The replay's message id names the dead letter, so a replay repeated
// after a failure before the removal is a duplicate, not a second copy.
func ReplayDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64, data []byte) (DeadLetter, error) {
	d, err := GetDeadLetter(ctx, js, seq)
	if err != nil {
		return DeadLetter{}, err
	}
	if d.Subject == "" || strings.HasPrefix(d.Subject, events.SubjectDeadLetterPrefix) {
		return DeadLetter{}, fmt.Errorf("bus: dead letter %d names no subject to replay to (%q)", seq, d.Subject)
	}
	if data == nil {
		data = d.Data
	}
	id := "replay:" + d.Stream + ":" + strconv.FormatUint(d.StreamSeq, 10) + ":" + strconv.FormatUint(seq, 10)
	if _, err := js.Publish(ctx, d.Subject, data, jetstream.WithMsgID(id)); err != nil {
		return DeadLetter{}, fmt.Errorf("bus: replay dead letter %d to %s: %w", seq, d.Subject, err)
	}
	if err := DropDeadLetter(ctx, js, seq); err != nil {
		return DeadLetter{}, err
	}
	return d, nil
}

// DropDeadLetter removes the dead letter of sequence seq, or returns ErrNoDeadLetter.
func DropDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	st, err := js.Stream(ctx, events.StreamDeadLetter)
	if err != nil {
		return fmt.Errorf("bus: dead letters: %w", err)
	}
	if err := st.DeleteMsg(ctx, seq); err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
			return fmt.Errorf("bus: dead letter %d: %w", seq, ErrNoDeadLetter)
		}
		return fmt.Errorf("bus: drop dead letter %d: %w", seq, err)
	}
	return nil
}
