package metrics_test

import (
	"os"
	"strings"
	"testing"

	"giveback.dev/services/report/metrics"
)

// TestMetricsDocumented checks that METRICS.md shows every statement exactly as it is run.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../METRICS.md")
	if err != nil {
		t.Fatal(err)
	}
	sts := metrics.Statements()
	var names []string
	for _, st := range sts {
		names = append(names, st.Name)
	}
	if got, want := strings.Join(names, " "), "acceptance activity community contributions contributors cycle health newcomers people projects reach repos responsiveness risks seats summary teams trend"; got != want {
		t.Fatalf("statements %q, want %q", got, want)
	}
	for _, st := range sts {
		if !strings.Contains(string(doc), "```sql\n"+st.SQL+"\n```") {
			t.Errorf("METRICS.md does not show the %s statement as it is in sql/%s.sql", st.Name, st.Name)
		}
		if st.Doc == "" {
			t.Errorf("sql/%s.sql has no leading comment", st.Name)
		}
	}
}
