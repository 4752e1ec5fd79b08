package reports

import (
	"fmt"
	"math"
	"slices"

	"giveback.dev/services/report/metrics"
)

// The recommendation rules. Each is documented in RULES.md under its name; a recommendation
// names its rule and the numbers that triggered it.
const (
	RuleElephantFactorOne  = "elephant-factor-one"
	RuleNeglectedCritical  = "neglected-critical-dependencies"
	RuleTargetMissed       = "target-missed"
	RuleAcceptanceFalling  = "acceptance-falling"
	RuleSlowFirstResponse  = "slow-first-response"
	RuleContributorsFallen = "contributors-falling"
	RuleLowCoverage        = "low-coverage"
	RuleCommunityFalling   = "community-falling"
)

// The thresholds of the rules.
const (
	acceptanceDropPoints  = 0.10 // acceptance-falling: a drop of 10 percentage points or more
	acceptanceMinDecided  = 5    // … with at least 5 pull requests merged or closed in the period
	slowFirstResponseHrs  = 72   // slow-first-response: a median above three days
	contributorsDropShare = 0.20 // contributors-falling: a drop of 20% or more …
	contributorsDropMin   = 2    // … and of at least two people
	lowCoverage           = 0.25 // low-coverage: under a quarter of the dependencies, without a coverage target
	communityDropShare    = 0.30 // community-falling: outside contributors down 30% or more …
	communityDropMin      = 3    // … and by at least three people
	maxNamed              = 3    // dependencies named in one recommendation
)

// recommend applies every rule to the numbers, in the order of the rules above.
func recommend(n *Numbers) []Recommendation {
	out := []Recommendation{}
	if n.Empty {
		return out
	}
	fig := map[string]Figure{}
	for _, f := range n.Headline {
		fig[f.Key] = f
	}

	carried := map[string]bool{} // dependencies named by the Elephant Factor rule already
	if r := n.Risks; r != nil {
		var named, nums []string
		for _, row := range r.Rows {
			if !slices.Contains(row.Codes, metrics.RiskElephant) || len(named) == maxNamed {
				continue
			}
			named = append(named, row.Repo)
			carried[row.Repo] = true
			nums = append(nums, fmt.Sprintf("%s: used by %s, Elephant Factor 1, no contribution of ours in the period",
				row.Repo, plural(row.Criticality, "service", "services")))
		}
		if len(named) > 0 {
			out = append(out, Recommendation{Rule: RuleElephantFactorOne,
				Text: fmt.Sprintf("%s the company uses %s carried by one organization and no contributor of ours: consider funding or staffing %s.",
					plural(int64(len(named)), "dependency", "dependencies"), map[bool]string{true: "is", false: "are"}[len(named) == 1], listWords(named)),
				Numbers: nums})
		}
	}

	if c := n.Cycle; c != nil {
		var named []string
		var nums []string
		for _, d := range c.Neglected {
			if d.Criticality < riskCriticality || carried[d.Repo] || len(named) == maxNamed {
				continue
			}
			named = append(named, d.Repo)
			nums = append(nums, fmt.Sprintf("%s: used by %s, %s merged in 12 months, %s in the period",
				d.Repo, plural(d.Criticality, "service", "services"), count(d.MergedLastYear), plural(d.Contributions, "contribution", "contributions")))
		}
		if len(named) > 0 {
			out = append(out, Recommendation{Rule: RuleNeglectedCritical,
				Text: fmt.Sprintf("%s the company depends on received no contribution of ours in the last 12 months: consider funding or staffing %s.",
					plural(int64(len(named)), "critical dependency", "critical dependencies"), listWords(named)),
				Numbers: nums})
		}
	}

	for _, key := range TargetKeys {
		f, ok := fig[key]
		if !ok || f.Met == nil || *f.Met {
			continue
		}
		out = append(out, Recommendation{Rule: RuleTargetMissed,
			Text: fmt.Sprintf("%s is %s against a target of %s (%s): look at what holds it back.",
				f.Label, value(f.Value, f.Unit), value(f.Target, f.Unit), signed(f.Gap, f.Unit)),
			Numbers: []string{fmt.Sprintf("%s: %s, target %s", f.Label, value(f.Value, f.Unit), value(f.Target, f.Unit))}})
	}

	if f := fig[TargetAcceptanceRatio]; f.Delta != nil && *f.Delta <= -acceptanceDropPoints {
		if d, ok := fig[TargetUpstreamPRsMerged]; ok && d.Value != nil && n.PRsDecided >= acceptanceMinDecided {
			out = append(out, Recommendation{Rule: RuleAcceptanceFalling,
				Text: fmt.Sprintf("The acceptance ratio fell from %s to %s: review the declined pull requests with their authors before the next period.",
					value(f.Previous, f.Unit), value(f.Value, f.Unit)),
				Numbers: []string{fmt.Sprintf("acceptance ratio %s (previous %s, %s)", value(f.Value, f.Unit), value(f.Previous, f.Unit), signed(f.Delta, f.Unit))}})
		}
	}

	if f := fig[TargetFirstResponseHours]; f.Value != nil && *f.Value > slowFirstResponseHrs && f.Target == nil {
		out = append(out, Recommendation{Rule: RuleSlowFirstResponse,
			Text: fmt.Sprintf("Upstream projects took a median %s to answer our pull requests: agree on reviewers with the projects we depend on, or help review there.",
				value(f.Value, f.Unit)),
			Numbers: []string{fmt.Sprintf("median time to first response %s (threshold %d h)", value(f.Value, f.Unit), slowFirstResponseHrs)}})
	}

	if f := fig[TargetActiveContributors]; f.Value != nil && f.Previous != nil && *f.Previous > 0 && f.Target == nil {
		drop := *f.Previous - *f.Value
		if drop >= contributorsDropMin && drop/(*f.Previous) >= contributorsDropShare {
			out = append(out, Recommendation{Rule: RuleContributorsFallen,
				Text: fmt.Sprintf("Active contributors fell from %s to %s: ask the teams what keeps people from contributing upstream.",
					value(f.Previous, f.Unit), value(f.Value, f.Unit)),
				Numbers: []string{fmt.Sprintf("active contributors %s (previous %s, %s)", value(f.Value, f.Unit), value(f.Previous, f.Unit), percent(f.DeltaPct))}})
		}
	}

	if f := fig[TargetGiveBackCoverage]; f.Value != nil && *f.Value < lowCoverage && f.Target == nil && n.Cycle != nil {
		out = append(out, Recommendation{Rule: RuleLowCoverage,
			Text: fmt.Sprintf("Only %s of the company's %s had a pull request of ours merged in the last 12 months: set a give-back coverage target.",
				value(f.Value, f.Unit), plural(n.Cycle.Dependencies, "dependency", "dependencies")),
			Numbers: []string{fmt.Sprintf("give-back coverage %s: %s of %s dependencies", value(f.Value, f.Unit), count(n.Cycle.Covered), count(n.Cycle.Dependencies))}})
	}

	if n.Cycle != nil && n.Cycle.CameBack != nil {
		cb := n.Cycle.CameBack
		drop := float64(cb.PrevContributors - cb.Contributors)
		if drop >= communityDropMin && drop/math.Max(float64(cb.PrevContributors), 1) >= communityDropShare {
			out = append(out, Recommendation{Rule: RuleCommunityFalling,
				Text: fmt.Sprintf("Outside contributors to the company's own projects fell from %s to %s: check how those projects answer newcomers.",
					count(cb.PrevContributors), count(cb.Contributors)),
				Numbers: []string{fmt.Sprintf("outside contributors %s (previous %s)", count(cb.Contributors), count(cb.PrevContributors))}})
		}
	}
	return out
}
