package events

import (
	"fmt"
	"time"
)

// GenerationBits is how many low bits of a stored contribution version hold the roster
// generation it was attributed with.
const GenerationBits = 20

// MaxGeneration is the largest roster generation a stored version can carry.
const MaxGeneration = 1<<GenerationBits - 1

// MaxVersionMS is the largest state time, in ms since the Unix epoch, a stored version can
// carry: the high 64-GenerationBits bits, which last until the year 2527.
const MaxVersionMS = 1<<(64-GenerationBits) - 1

// Version is the version a contribution is stored with: the state's time in ms (the mapper's
// Version) in the high bits and the roster generation it was attributed with in the low
// GenerationBits. Versions order as ClickHouse's ReplacingMergeTree compares them: a later
// state always wins over an earlier one (its ms is larger, whatever the generations), and the
// same state re-derived after a roster change wins over its earlier attribution (same ms, higher
// generation); a batch still attributed with the old roster that lands after a re-derivation
// loses to it.
type Version uint64

// NewVersion returns the version of the state at ms attributed with the roster generation, or
// an error when ms is past MaxVersionMS or the generation past MaxGeneration (either would spill
// into the other's bits and break the order).
func NewVersion(ms uint64, generation uint32) (Version, error) {
	if ms > MaxVersionMS {
		return 0, fmt.Errorf("events: version: state time %d ms is past the largest a version holds (%d, in the year 2527)", ms, uint64(MaxVersionMS))
	}
	if generation > MaxGeneration {
		return 0, fmt.Errorf("events: version: roster generation %d is past the largest a version holds (%d)", generation, MaxGeneration)
	}
	return Version(ms<<GenerationBits | uint64(generation)), nil
}

// MS is the state's time in ms since the Unix epoch.
func (v Version) MS() uint64 { return uint64(v) >> GenerationBits }

// Generation is the roster generation the contribution was attributed with.
func (v Version) Generation() uint32 { return uint32(uint64(v) & MaxGeneration) }

// Time is the state's time.
func (v Version) Time() time.Time { return time.UnixMilli(int64(v.MS())).UTC() }

// StoredVersion is NewVersion's value as stored in the version column, for ms and generations
// known to be in range (tests, fixtures); out-of-range inputs are cut to their bits as the
// column always did. Code that handles input uses NewVersion.
func StoredVersion(ms uint64, generation uint32) uint64 {
	return (ms&MaxVersionMS)<<GenerationBits | uint64(generation&MaxGeneration)
}
