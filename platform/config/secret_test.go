package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"giveback.dev/platform/config"
)

// A secret left at an example value stops the start, naming where it was read; real secrets
// pass.
func TestExampleSecretRefused(t *testing.T) {
	for _, c := range []struct {
		value   string
		example bool
	}{
		{"change-me", true},
		{"CHANGE_ME", true},
		{"changeme", true},
		{"change-me-too", true},
		{"placeholder", true},
		{"placeholder-for-validation", true},
		{"example", true},
		{"secret", true},
		{"Password", true},
		{"<your-secret>", true},
		{"  password  ", true},
		{"${SECRET}", true},
		{"7f3a9c0e5b21d84f6a0c9e3b7d1f5a2c", false},
		{"e2e-secret", false},
		{"from-env", false},
		{"secretive-horse-battery-staple", false},
		{"mypassword-is-long-and-random-9f3a", false},
	} {
		if got := config.ExampleSecret(c.value); got != c.example {
			t.Errorf("ExampleSecret(%q) = %v, want %v", c.value, got, c.example)
		}
	}

	t.Setenv("GB_TEST_SECRET", "change-me")
	_, err := config.Secret("GB_TEST_SECRET", "")
	if err == nil || !strings.Contains(err.Error(), "GB_TEST_SECRET") {
		t.Errorf("example secret in the environment: %v; want an error naming GB_TEST_SECRET", err)
	}
	f := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(f, []byte("placeholder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GB_TEST_SECRET", "")
	_, err = config.Secret("GB_TEST_SECRET", f)
	if err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("example secret in a file: %v; want an error naming %s", err, f)
	}
}

// Every literal value of the example Kubernetes secret is refused.
func TestSecretExampleFileValuesRefused(t *testing.T) {
	b, err := os.ReadFile("../../deploy/kubernetes/secret.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "stringData:") {
			in = true
			continue
		}
		if !in || !strings.HasPrefix(line, "  ") {
			continue
		}
		_, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if !ok || v == "" {
			continue
		}
		n++
		if !config.ExampleSecret(v) {
			t.Errorf("secret.example.yaml value %q is accepted as a secret", v)
		}
	}
	if n == 0 {
		t.Fatal("no values found in secret.example.yaml")
	}
}
