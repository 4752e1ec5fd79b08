package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Errors of ReadVerified.
var (
	// ErrTooLarge: the body is longer than the limit; no more than limit+1 bytes were read.
	ErrTooLarge = errors.New("webhook: body larger than the limit")
	// ErrSignature: the signature header is missing, malformed, or does not match the body.
	ErrSignature = errors.New("webhook: X-Hub-Signature-256 is missing or does not match the body")
)

// Verified is a body read by ReadVerified.
type Verified struct {
	Body []byte
	// Hash is the SHA-256 of the body, which identifies a replay of the same signed body.
	Hash [sha256.Size]byte
}

// ReadVerified reads at most limit bytes of r, computing the HMAC-SHA256 with secret and the
// body's SHA-256 as the bytes stream in, and checks the HMAC against signature
// ("sha256=<hex>") in constant time. sizeHint, when positive, sizes the buffer (the request's
// Content-Length, already checked against limit). A body longer than limit is ErrTooLarge as
// soon as its limit+1st byte arrives; a bad signature is ErrSignature; a read failure is
// returned wrapped.
func ReadVerified(r io.Reader, secret []byte, signature string, limit, sizeHint int64) (Verified, error) {
	want, sigOK := parseSignature(signature)
	mac := hmac.New(sha256.New, secret)
	sum := sha256.New()
	var buf bytes.Buffer
	if sizeHint > 0 && sizeHint <= limit {
		// Room for the body and for the read that finds its end, so the buffer is allocated
		// once.
		buf.Grow(int(sizeHint) + bytes.MinRead)
	}
	n, err := io.Copy(&buf, io.TeeReader(io.LimitReader(r, limit+1), io.MultiWriter(mac, sum)))
	if err != nil {
		return Verified{}, fmt.Errorf("webhook: reading body: %w", err)
	}
	if n > limit {
		return Verified{}, ErrTooLarge
	}
	if !sigOK || !hmac.Equal(want, mac.Sum(nil)) {
		return Verified{}, ErrSignature
	}
	v := Verified{Body: buf.Bytes()}
	sumInto(sum, &v.Hash)
	return v, nil
}

func sumInto(h hash.Hash, dst *[sha256.Size]byte) { copy(dst[:], h.Sum(nil)) }

// parseSignature decodes "sha256=<64 hex digits>".
func parseSignature(header string) ([]byte, bool) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(hexSig) != 2*sha256.Size {
		return nil, false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return nil, false
	}
	return got, true
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body: "sha256=<hex>".
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
