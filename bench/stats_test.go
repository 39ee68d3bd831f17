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
