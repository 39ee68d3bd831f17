package api

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// appendTiming writes what fmt's %.3f wrote, and statusLabel what
// strconv.Itoa writes.
func TestTimingAndStatusLabel(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, time.Microsecond, 1499 * time.Microsecond, 1500 * time.Microsecond, 2*time.Millisecond + 999*time.Microsecond,
		-3 * time.Millisecond, 59 * time.Second, 1 << 62} {
		if got, want := string(appendTiming(nil, "total", d)), fmt.Sprintf("total;dur=%.3f", ms(d)); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
	for code := -1; code < 1000; code++ {
		if got, want := statusLabel(code), strconv.Itoa(code); got != want {
			t.Errorf("%d: %q", code, got)
		}
	}
}
