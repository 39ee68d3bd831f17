package jobs

import (
	"testing"
	"time"
)

// A job id gives back the millisecond it was made in (the Redis index's
// score, where a page after it starts); anything else is refused.
func TestIDMillis(t *testing.T) {
	t.Parallel()
	for _, at := range []time.Time{time.UnixMilli(0), time.UnixMilli(1), time.Now(), time.Date(2999, 12, 31, 23, 59, 59, 999e6, time.UTC)} {
		id := NewID(at)
		if ms, ok := idMillis(id); !ok || ms != at.UnixMilli() {
			t.Errorf("idMillis(%s) = %d, %v; want %d", id, ms, ok, at.UnixMilli())
		}
	}
	for _, bad := range []string{"", "imp_", "imp_01M8TNJ5PP9AHH28J2R11NRNP", "job_01M8TNJ5PP9AHH28J2R11NRNP4", "imp_01M8TNJ5PP9AHH28J2R11NRNPU"} {
		if _, ok := idMillis(bad); ok {
			t.Errorf("idMillis(%q) took it", bad)
		}
	}
}
