package reports

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Senders sends a report to each kind of delivery. The zero value sends with
// http.DefaultClient's transport, a 30 s timeout per attempt, and the system's certificates.
type Senders struct {
	// HTTP posts to Slack, Teams and webhooks; nil uses a client with a 30 s timeout.
	HTTP *http.Client
	// SMTP configures the mail client (TLS roots, timeouts).
	SMTP SMTPClient
}

// Send delivers rep to d; name is the report's name, for the files and headers.
func (s Senders) Send(ctx context.Context, d Delivery, rep *Report) error {
	switch d.Kind {
	case "smtp":
		return s.SMTP.Send(ctx, d, rep)
	case "slack":
		return s.post(ctx, d.URL, "application/json", slackPayload(rep), nil)
	case "teams":
		return s.post(ctx, d.URL, "application/json", teamsPayload(rep), nil)
	case "webhook":
		body, err := webhookBody(rep)
		if err != nil {
			return err
		}
		mac := hmac.New(sha256.New, []byte(d.Secret))
		mac.Write(body)
		return s.post(ctx, d.URL, "application/json", body, http.Header{
			"X-Giveback-Event":         {"report"},
			"X-Giveback-Report":        {rep.Name + "/" + rep.Period.Label},
			SignatureHeader:            {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
			"X-Giveback-Report-Sha256": {rep.Hash},
		})
	case "directory":
		return WriteDirectory(filepath.Join(d.Path, rep.Name, rep.Period.Label), rep)
	}
	return fmt.Errorf("reports: unknown delivery kind %q", d.Kind)
}

// SignatureHeader carries the HMAC-SHA256 of a webhook delivery's body, in hex after sha256=,
// keyed with the delivery's secret: the receiver recomputes it over the raw body and compares in
// constant time.
const SignatureHeader = "X-Giveback-Signature-256"

// post sends body and treats any answer but 2xx as a failure naming the status and the start of
// the answer.
func (s Senders) post(ctx context.Context, url, ctype string, body []byte, h http.Header) error {
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("reports: post: %w", redact(err, url))
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "giveback-reports")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL of an incoming webhook is its secret: it is never logged nor archived.
		return fmt.Errorf("reports: post: %w", redact(err, url))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("reports: post: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// redact removes a secret URL from an error's text.
func redact(err error, url string) error {
	if url == "" || !strings.Contains(err.Error(), url) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), url, "<webhook URL>"))
}

// chatText is the summary, bounded to what one Slack section or Teams text block shows.
func chatText(rep *Report) string {
	t := rep.Summary
	if t == "" {
		t = string(rep.Text)
	}
	if len(t) > 2900 {
		cut := strings.LastIndex(t[:2900], "\n")
		if cut < 0 {
			cut = 2900
		}
		t = t[:cut] + "\n…"
	}
	return t
}

// slackPayload is a Slack incoming webhook message: a header, the summary and a link to the
// archived copy, with text as the notification's fallback.
func slackPayload(rep *Report) []byte {
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(rep.Subject, 150)}},
		{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": chatText(rep)}},
	}
	if link := archiveLink(rep); link != "" {
		blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{
			{"type": "mrkdwn", "text": "<" + link + "|Open the full report>"},
		}})
	}
	b, _ := json.Marshal(map[string]any{"text": rep.Subject, "blocks": blocks}) // maps of strings always encode
	return b
}

// teamsPayload is a Microsoft Teams incoming webhook (Workflows) message holding one Adaptive
// Card: the subject, the summary and a button to the archived copy.
func teamsPayload(rep *Report) []byte {
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []map[string]any{
			{"type": "TextBlock", "text": rep.Subject, "weight": "Bolder", "size": "Medium", "wrap": true},
			{"type": "TextBlock", "text": chatText(rep), "wrap": true},
		},
	}
	if link := archiveLink(rep); link != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Open the full report", "url": link}}
	}
	b, _ := json.Marshal(map[string]any{
		"type":        "message",
		"attachments": []map[string]any{{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil, "content": card}},
	})
	return b
}

func archiveLink(rep *Report) string {
	if rep.Numbers != nil && strings.HasPrefix(rep.Numbers.Links.Archive, "http") {
		return rep.Numbers.Links.Archive
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// WebhookPayload is the body of a webhook delivery.
type WebhookPayload struct {
	Report         string   `json:"report"`
	Period         string   `json:"period"`
	Subject        string   `json:"subject"`
	Hash           string   `json:"hash"`
	MetricsVersion string   `json:"metrics_version"`
	Summary        string   `json:"summary"`
	Numbers        *Numbers `json:"numbers"`
}

func webhookBody(rep *Report) ([]byte, error) {
	b, err := json.Marshal(WebhookPayload{Report: rep.Name, Period: rep.Period.Label, Subject: rep.Subject, Hash: rep.Hash,
		MetricsVersion: rep.MetricsVersion, Summary: rep.Summary, Numbers: rep.Numbers})
	if err != nil {
		return nil, fmt.Errorf("reports: webhook body: %w", err)
	}
	return b, nil
}

// DirectoryFiles are the files WriteDirectory writes, by name.
func DirectoryFiles(rep *Report) (map[string][]byte, error) {
	numbers, err := json.MarshalIndent(rep.Numbers, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("reports: numbers: %w", err)
	}
	web := rep.WebHTML
	if len(web) == 0 {
		web = rep.HTML
	}
	files := map[string][]byte{
		"report.html": web, "report.md": rep.Markdown, "report.txt": rep.Text, "report.csv": rep.CSV,
		"report.pdf": rep.PDF, "report-letter.pdf": rep.PDFLetter, "numbers.json": numbers,
	}
	for k, v := range files {
		if len(v) == 0 {
			delete(files, k)
		}
	}
	return files, nil
}

// WriteDirectory writes the report's files into dir (created when absent), each through a
// temporary file renamed into place, so a reader never sees half a file.
func WriteDirectory(dir string, rep *Report) error {
	files, err := DirectoryFiles(rep)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("reports: directory: %w", err)
	}
	for name, b := range files {
		tmp, err := os.CreateTemp(dir, "."+name+".*")
		if err != nil {
			return fmt.Errorf("reports: directory: %w", err)
		}
		_, werr := tmp.Write(b)
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("reports: directory: %w", err)
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("reports: directory: %w", err)
		}
	}
	return nil
}
