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
	if len(sts) < 7 {
		t.Fatalf("only %d statements", len(sts))
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
