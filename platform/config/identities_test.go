package config_test

import (
	"strings"
	"testing"

	"giveback.dev/platform/config"
)

func TestIdentitiesConfig(t *testing.T) {
	cfg, err := config.Load(write(t, "identities:\n  bots: [ci-bot]\n  aliases:\n    ann-work: ann\n    Ann@Old.example: ann\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Identities.Bots) != 1 || cfg.Identities.Aliases["ann-work"] != "ann" {
		t.Fatalf("identities read as %+v", cfg.Identities)
	}
	for _, tc := range []struct{ body, want string }{
		{"identities:\n  bot: [x]\n", "unknown key identities.bot"},
		{"identities:\n  bots: ['a b']\n", "identities.bots[0]"},
		{"identities:\n  aliases:\n    x: ann@acme.com\n", "identities.aliases.x"},
	} {
		if _, err := config.Load(write(t, tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
}
