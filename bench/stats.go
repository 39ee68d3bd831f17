package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Quantile returns the q-quantile (0 < q ≤ 1) of ds by the nearest-rank
// method: the smallest value with at least q of the values at or below it.
// It returns 0 for no values; q outside (0, 1] is clamped.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(q * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Bound is a promised bound on a measured value.
type Bound struct {
	AtLeast bool    // the value must be ≥ Limit (otherwise ≤ Limit)
	Limit   float64 // the promised bound
}

// Kept reports whether v keeps the bound. NaN never does.
func (b Bound) Kept(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if b.AtLeast {
		return v >= b.Limit
	}
	return v <= b.Limit
}

// Verdict is the one line a benchmark logs for a promise: the name, the
// measured value against the bound, KEPT or MISSED, and what it was measured
// from.
func Verdict(name string, v float64, b Bound, detail string) string {
	op, word := "≤", "MISSED"
	if b.AtLeast {
		op = "≥"
	}
	if b.Kept(v) {
		word = "KEPT"
	}
	return fmt.Sprintf("verdict: %s %.3f (promise %s %.2f) %s — %s", name, v, op, b.Limit, word, detail)
}
