package chart_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"strings"
	"testing"

	"giveback.dev/services/report/chart"
	"giveback.dev/services/report/metrics"
)

func fp(v float64) *float64 { return &v }

// Every kind of chart draws as well-formed SVG labelled with its title, and as a PNG of twice
// the CSS size.
func TestDrawEveryKind(t *testing.T) {
	for _, kind := range []string{chart.Bar, chart.Stacked, chart.Line} {
		c := chart.Chart{ID: "c-" + kind, Title: "Pull requests & reviews <per month>", Kind: kind, Unit: chart.UnitCount,
			Labels: []string{"2025-11", "2025-12", "2026-01"},
			Series: []chart.Series{{Name: "merged", Values: []*float64{fp(3), nil, fp(1200)}}, {Name: "closed", Values: []*float64{fp(1), fp(2), nil}}}}
		svg, err := chart.SVG(&c, 520, 240)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		d := xml.NewDecoder(bytes.NewReader(svg))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s: SVG is not well-formed: %v\n%.300s", kind, err, svg)
			}
		}
		s := string(svg)
		for _, want := range []string{`<svg width="520" height="240"`, `aria-label="Pull requests &amp; reviews &lt;per month&gt;"`, `data-chart="c-` + kind + `"`, "viewBox=", "Nov 25", "1,000"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: SVG lacks %s", kind, want)
			}
		}
		b, err := chart.PNG(&c)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r := img.Bounds(); r.Dx() != 2*chart.Width || r.Dy() != 2*chart.Height {
			t.Errorf("%s: PNG %v, want %dx%d", kind, r, 2*chart.Width, 2*chart.Height)
		}
	}
}

// A stacked chart's value axis reaches the tallest stack, not the tallest series: its top tick
// is at least the sum.
func TestStackedAxisCoversTheStack(t *testing.T) {
	c := chart.Chart{ID: "s", Title: "s", Kind: chart.Stacked, Unit: chart.UnitCount, Labels: []string{"2026-01", "2026-02"},
		Series: []chart.Series{{Name: "a", Values: []*float64{fp(600), fp(10)}}, {Name: "b", Values: []*float64{fp(500), fp(10)}}}}
	svg, err := chart.SVG(&c, 520, 240)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">1,000<") {
		t.Errorf("the axis of a stack of 1,100 has no 1,000 tick:\n%s", svg)
	}
	c.Kind = chart.Bar
	if svg, _ = chart.SVG(&c, 520, 240); strings.Contains(string(svg), ">1,000<") {
		t.Error("side-by-side bars of at most 600 reach 1,000: the stack's height is used for bars")
	}
}

// The shared builders take their series from the metric results as they are.
func TestBuilders(t *testing.T) {
	acc := metrics.Acceptance{Months: []metrics.AcceptanceMonth{{Month: "2026-01", Merged: 3, Declined: 1, Ratio: fp(0.75)}, {Month: "2026-02"}}}
	d := chart.Decided(acc)
	if d.Kind != chart.Stacked || len(d.Series) != 2 || *d.Series[0].Values[0] != 3 || *d.Series[1].Values[0] != 1 || d.Labels[1] != "2026-02" {
		t.Errorf("Decided = %+v", d)
	}
	r := chart.AcceptanceRatio(acc)
	if *r.Series[0].Values[0] != 0.75 || r.Series[0].Values[1] != nil {
		t.Errorf("AcceptanceRatio: a month with nothing decided must have no point: %+v", r.Series[0].Values)
	}
	cs := metrics.Contributions{Kinds: []string{"commit", "review", "release"}, Months: []metrics.KindMonth{
		{Month: "2026-01", ByKind: map[string]int64{"commit": 4, "review": 0, "release": 0}},
		{Month: "2026-02", ByKind: map[string]int64{"commit": 1, "review": 2, "release": 0}},
	}}
	k := chart.ByKind(cs, map[string]string{"commit": "Commits"})
	if len(k.Series) != 2 || k.Series[0].Name != "Commits" || k.Series[1].Name != "review" || *k.Series[1].Values[1] != 2 {
		t.Errorf("ByKind = %+v; want commits and reviews, releases left out", k.Series)
	}
	if k.OwnLegend() != true || len(chart.Legend(&k)) != 2 || chart.Legend(&k)[0].Color != "#2563eb" {
		t.Errorf("legend of two series: own %v, %v", k.OwnLegend(), chart.Legend(&k))
	}
}

// A chart without a value above zero says so in words, in every output, instead of drawing
// empty axes.
func TestEmptyChartSaysSo(t *testing.T) {
	zero := 0.0
	c := chart.Decided(metrics.Acceptance{Months: []metrics.AcceptanceMonth{{Month: "2026-01"}, {Month: "2026-02"}}})
	svg, err := chart.SVG(&c, 520, 240)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">No pull requests decided in this period<") || strings.Contains(string(svg), "Jan 26") {
		t.Errorf("an empty chart draws axes or lacks its message:\n%s", svg)
	}
	c.Series[0].Values[0] = &zero
	if c.HasData() {
		t.Error("zeros are data")
	}
	one := 1.0
	c.Series[1].Values[1] = &one
	if svg, _ = chart.SVG(&c, 520, 240); strings.Contains(string(svg), "No pull requests decided") {
		t.Error("a chart with one value says it has none")
	}
}
