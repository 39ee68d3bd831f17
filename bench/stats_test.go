package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of odd", ms(5, 1, 3), 0.5, 3 * time.Millisecond},
		{"median of even is the lower middle", ms(4, 1, 3, 2), 0.5, 2 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p100 is the largest", ms(hundred...), 1, 100 * time.Millisecond},
		{"q below range is the smallest", ms(3, 2), 0, 2 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Quantile(tc.ds, tc.q); got != tc.want {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tc.ds, tc.q, got, tc.want)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    float64
		b    Bound
		want string
	}{
		{0.62, Bound{AtLeast: true, Limit: 0.5}, "verdict: x 0.620 (promise ≥ 0.50) KEPT — d"},
		{0.49, Bound{AtLeast: true, Limit: 0.5}, "verdict: x 0.490 (promise ≥ 0.50) MISSED — d"},
		{1.05, Bound{Limit: 1.05}, "verdict: x 1.050 (promise ≤ 1.05) KEPT — d"},
		{1.2, Bound{Limit: 1.1}, "verdict: x 1.200 (promise ≤ 1.10) MISSED — d"},
	} {
		if got := Verdict("x", tc.v, tc.b, "d"); got != tc.want {
			t.Errorf("Verdict(%v, %+v) = %q, want %q", tc.v, tc.b, got, tc.want)
		}
	}
	if !strings.Contains(Verdict("x", math.NaN(), Bound{Limit: 1}, ""), "MISSED") {
		t.Error("NaN must never keep a promise")
	}
}

// TestLoadWarning: a figure says so when the load side of any of its runs
// was over 90 % busy, and only then.
func TestLoadWarning(t *testing.T) {
	t.Parallel()
	side := func(peerBusy float64) sideUse {
		return sideUse{wall: time.Second, peerCPU: time.Duration(peerBusy * float64(time.Second))}
	}
	for _, tc := range []struct {
		name  string
		sides []sideUse
		warn  bool
	}{
		{"none", nil, false},
		{"one at 82 %", []sideUse{side(0.82)}, false},
		{"one at 90 %", []sideUse{side(0.90)}, false},
		{"one at 94 %", []sideUse{side(0.94)}, true},
		{"the second of two at 93 %", []sideUse{side(0.50), side(0.93)}, true},
	} {
		got := loadWarning(tc.sides...)
		if warned := strings.Contains(got, "over 90 % busy"); warned != tc.warn {
			t.Errorf("%s: loadWarning = %q; want a warning: %v", tc.name, got, tc.warn)
		}
	}
}
