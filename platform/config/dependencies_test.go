package config_test

import (
	"strings"
	"testing"

	"giveback.dev/platform/config"
)

func TestDependenciesConfig(t *testing.T) {
	cfg, err := config.Load(write(t, "dependencies:\n  paths: [sboms/, services/api/go.mod]\n  foundations:\n    example-corp-oss/widget: CNCF\n    eclipse-*: ''\n    acme: Acme Foundation\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Dependencies.Paths) != 2 || cfg.Dependencies.Foundations["acme"] != "Acme Foundation" || !strings.HasSuffix(cfg.Path(cfg.Dependencies.Paths[0]), "/sboms") {
		t.Fatalf("read as %+v", cfg.Dependencies)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "dependencies:\n  path: [x]\n", "unknown key dependencies.path"},
		{"empty path", "dependencies:\n  paths: ['']\n", "dependencies.paths[0]: must not be empty"},
		{"bad owner", "dependencies:\n  foundations:\n    'not an owner': CNCF\n", `dependencies.foundations: "not an owner" is not a GitHub owner`},
		{"spaces", "dependencies:\n  foundations:\n    acme: ' CNCF'\n", "dependencies.foundations.acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
