package events

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestVersionRoundTrip(t *testing.T) {
	at := time.Date(2025, 10, 7, 12, 30, 0, 123e6, time.UTC)
	cases := []struct {
		name string
		ms   uint64
		gen  uint32
	}{
		{"zero", 0, 0},
		{"a state, first roster", uint64(at.UnixMilli()), 0},
		{"a state, later roster", uint64(at.UnixMilli()), 42},
		{"largest generation", uint64(at.UnixMilli()), MaxGeneration},
		{"largest time", MaxVersionMS, 7},
		{"both largest", MaxVersionMS, MaxGeneration},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := NewVersion(c.ms, c.gen)
			if err != nil {
				t.Fatal(err)
			}
			if v.MS() != c.ms || v.Generation() != c.gen {
				t.Errorf("NewVersion(%d, %d) reads back as ms %d generation %d", c.ms, c.gen, v.MS(), v.Generation())
			}
			// The stored value is the one the version column has always held.
			if uint64(v) != c.ms<<20|uint64(c.gen) || uint64(v) != StoredVersion(c.ms, c.gen) {
				t.Errorf("NewVersion(%d, %d) = %d, want ms<<20|generation = %d", c.ms, c.gen, v, c.ms<<20|uint64(c.gen))
			}
		})
	}
	if v, _ := NewVersion(uint64(at.UnixMilli()), 3); !v.Time().Equal(at) {
		t.Errorf("Time() = %v, want %v", v.Time(), at)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		ms, gen := r.Uint64N(MaxVersionMS+1), uint32(r.IntN(MaxGeneration+1))
		v, err := NewVersion(ms, gen)
		if err != nil || v.MS() != ms || v.Generation() != gen {
			t.Fatalf("NewVersion(%d, %d) = %d (%v): reads back as %d, %d", ms, gen, v, err, v.MS(), v.Generation())
		}
	}
}

func TestVersionOrder(t *testing.T) {
	ms := uint64(time.Date(2025, 1, 1, 15, 0, 0, 0, time.UTC).UnixMilli())
	v := func(ms uint64, gen uint32) Version {
		t.Helper()
		x, err := NewVersion(ms, gen)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	// A later state wins whatever the generations: one ms later with the first roster beats the
	// earlier state with the last roster a version can carry.
	if !(v(ms+1, 0) > v(ms, MaxGeneration)) {
		t.Error("a later state does not win over an earlier one attributed with a later roster")
	}
	// The same state re-derived with a later roster wins; the old attribution loses.
	if !(v(ms, 2) > v(ms, 1)) || !(v(ms, 1) > v(ms, 0)) {
		t.Error("the same state attributed with a later roster does not win")
	}
	// The order of versions is the order of (ms, generation) pairs.
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		a, b := r.Uint64N(MaxVersionMS+1), r.Uint64N(MaxVersionMS+1)
		ga, gb := uint32(r.IntN(MaxGeneration+1)), uint32(r.IntN(MaxGeneration+1))
		if r.IntN(4) == 0 {
			b = a
		}
		want := a < b || (a == b && ga < gb)
		if got := v(a, ga) < v(b, gb); got != want {
			t.Fatalf("(%d, %d) < (%d, %d) is %v as versions, %v as pairs", a, ga, b, gb, got, want)
		}
	}
}

func TestVersionBounds(t *testing.T) {
	if MaxVersionMS != 1<<44-1 || MaxGeneration != 1<<20-1 {
		t.Fatalf("bounds %d, %d", uint64(MaxVersionMS), MaxGeneration)
	}
	if y := time.UnixMilli(MaxVersionMS).UTC().Year(); y != 2527 {
		t.Errorf("the largest time a version holds is in %d, want 2527", y)
	}
	for _, c := range []struct {
		ms   uint64
		gen  uint32
		want string
	}{
		{MaxVersionMS + 1, 0, "state time 17592186044416 ms is past the largest"},
		{1<<63 + 5, 0, "is past the largest a version holds"},
		{0, MaxGeneration + 1, "roster generation 1048576 is past the largest a version holds (1048575)"},
		{0, 1<<32 - 1, "roster generation 4294967295"},
	} {
		v, err := NewVersion(c.ms, c.gen)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewVersion(%d, %d) = %d, %v; want an error with %q", c.ms, c.gen, v, err, c.want)
		}
	}
}
