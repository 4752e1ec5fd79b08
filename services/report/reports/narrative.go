package reports

import (
	"fmt"
	"math"
	"strings"
)

// narrate writes the narrative: a short paragraph in plain words built from the numbers by fixed
// templates. It says what the period was, what went up, what went down, and what to look at
// first (the first recommendation, else the first risk).
func narrate(n *Numbers) string {
	where := "the company"
	if n.Filter.Team != "" {
		where = "team " + n.Filter.Team
	}
	if n.Empty {
		return fmt.Sprintf("No contribution by %s was recorded from %s. There is nothing to compare with the previous period; check the data's freshness below if this is unexpected.",
			where, periodText(n.Period))
	}
	fig := map[string]Figure{}
	for _, f := range n.Headline {
		fig[f.Key] = f
	}
	var s []string
	c, m, a := fig[TargetUpstreamContributions], fig[TargetUpstreamPRsMerged], fig[TargetActiveContributors]
	s = append(s, fmt.Sprintf("Between %s and %s, %s of %s made %s and had %s merged.",
		longDate(n.Period.From), longDate(n.Period.To), plural(int64(deref(a.Value)), "person", "people"), where,
		plural(int64(deref(c.Value)), strings.ToLower(singular(c.Label)), strings.ToLower(c.Label)),
		plural(int64(deref(m.Value)), "pull request", "pull requests")))

	var up, down []string
	for _, f := range n.Headline {
		if f.Delta == nil || *f.Delta == 0 || f.Value == nil {
			continue
		}
		better := *f.Delta > 0
		if f.LowerIsBetter {
			better = !better
		}
		if !notable(f) {
			continue
		}
		phrase := fmt.Sprintf("%s (%s to %s)", lowerLabel(f), direction(f), value(f.Value, f.Unit))
		if better {
			up = append(up, phrase)
		} else {
			down = append(down, phrase)
		}
	}
	if len(up) > 0 {
		s = append(s, "Better than the previous period: "+listWords(up)+".")
	}
	if len(down) > 0 {
		s = append(s, "Worse: "+listWords(down)+".")
	}
	if len(up) == 0 && len(down) == 0 {
		s = append(s, "The numbers barely moved from the previous period.")
	}
	var missed []string
	for _, f := range n.Headline {
		if f.Met != nil && !*f.Met {
			missed = append(missed, lowerLabel(f))
		}
	}
	if len(missed) > 0 {
		s = append(s, "Targets not met: "+listWords(missed)+".")
	}
	switch {
	case len(n.Recommendations) > 0:
		s = append(s, "To look at first: "+n.Recommendations[0].Text)
	case n.Risks != nil && len(n.Risks.Rows) > 0:
		s = append(s, fmt.Sprintf("To look at first: %s, a critical dependency at risk.", n.Risks.Rows[0].Repo))
	}
	return strings.Join(s, " ")
}

// notable says whether a change is worth a word: a count that moved by at least 5% (or by at
// least one when small), a ratio by at least 2 percentage points, hours by at least 10%.
func notable(f Figure) bool {
	d := math.Abs(*f.Delta)
	switch f.Unit {
	case UnitRatio:
		return d >= 0.02
	case UnitHours:
		return f.DeltaPct == nil || math.Abs(*f.DeltaPct) >= 10
	}
	return f.DeltaPct == nil || math.Abs(*f.DeltaPct) >= 5
}

// direction says how a figure moved: "up 12%", "down 4.0 pp", "up from 0".
func direction(f Figure) string {
	word := "up"
	if *f.Delta < 0 {
		word = "down"
	}
	switch {
	case f.Unit == UnitRatio:
		d := math.Abs(*f.Delta)
		return word + " " + value(&d, UnitRatio)[:len(value(&d, UnitRatio))-1] + " points"
	case f.DeltaPct != nil:
		return fmt.Sprintf("%s %.0f%%", word, math.Abs(*f.DeltaPct))
	}
	return word + " from " + value(f.Previous, f.Unit)
}

func deref(v *float64) float64 {
	if v == nil {
		return 0
	}
	return *v
}

// singular turns a plural label ("Upstream contributions") into its singular.
func singular(label string) string { return strings.TrimSuffix(label, "s") }

// lowerLabel is a figure's label inside a sentence: "median time to first response".
func lowerLabel(f Figure) string {
	l := f.Label
	if strings.HasSuffix(l, " (median)") {
		l = "median " + strings.ToLower(l[:1]) + strings.TrimSuffix(l[1:], " (median)")
		return l
	}
	return strings.ToLower(l[:1]) + l[1:]
}
