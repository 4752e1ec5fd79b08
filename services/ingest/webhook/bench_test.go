package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"strconv"
	"testing"
)

// BenchmarkReadVerified reads and verifies a body as it streams in (HMAC and body hash);
// BenchmarkReadAllThenVerify is the former way, reading it whole and then computing the HMAC.
func BenchmarkReadVerified(b *testing.B) {
	for _, size := range []int{16 << 10, 4 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		sig := Sign(secret, body)
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := ReadVerified(bytes.NewReader(body), secret, sig, DefaultMaxBytes, int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadAllThenVerify(b *testing.B) {
	for _, size := range []int{16 << 10, 4 << 20} {
		body := bytes.Repeat([]byte("x"), size)
		want, _ := parseSignature(Sign(secret, body))
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				got, err := io.ReadAll(io.LimitReader(bytes.NewReader(body), DefaultMaxBytes+1))
				if err != nil {
					b.Fatal(err)
				}
				mac := hmac.New(sha256.New, secret)
				mac.Write(got)
				if !hmac.Equal(want, mac.Sum(nil)) {
					b.Fatal("signature")
				}
			}
		})
	}
}
