package redisreset

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// logBuffer is a JSON slog handler's output, safe for concurrent writes.
type logBuffer struct{ testutil.SyncBuffer }

// lines are the log lines at level, decoded.
func (b *logBuffer) lines(t *testing.T, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, v := range b.JSONLines(t) {
		if v["level"] == level {
			out = append(out, v)
		}
	}
	return out
}

func newMarker(t *testing.T, rdb redis.UniversalClient, prefix string, logs *logBuffer) *Marker {
	t.Helper()
	m, err := New(rdb, Options{Prefix: prefix, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func check(t *testing.T, m *Marker) bool {
	t.Helper()
	reset, err := m.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return reset
}

// Two instances share a data set; when its marker vanishes, the first to
// check writes a new one and both notice the reset exactly once, each
// logging one ERROR line that names what was lost.
func TestMarkerNoticesALostDataSet(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Client(t)
	var logsA, logsB logBuffer
	a := newMarker(t, rdb, prefix, &logsA)
	b := newMarker(t, rdb, prefix, &logsB)
	if a.Key() != prefix+"dataset" {
		t.Errorf("key %q, want %q", a.Key(), prefix+"dataset")
	}
	for range 2 {
		if check(t, a) || check(t, b) {
			t.Fatal("a reset noticed on a data set that was kept")
		}
	}
	if n := len(logsA.lines(t, "INFO")) + len(logsB.lines(t, "INFO")); n != 1 {
		t.Errorf("%d INFO lines about writing the marker, want 1 (the first instance's)", n)
	}
	first, err := rdb.Get(context.Background(), a.Key()).Result()
	if err != nil {
		t.Fatal(err)
	}

	if err := rdb.Del(context.Background(), a.Key()).Err(); err != nil { // the data set is lost
		t.Fatal(err)
	}
	if !check(t, b) {
		t.Fatal("b did not notice the missing marker")
	}
	if !check(t, a) {
		t.Fatal("a did not notice the marker b wrote again")
	}
	for _, m := range []*Marker{a, b} {
		if check(t, m) {
			t.Error("the same reset noticed twice")
		}
		if n := m.Resets(); n != 1 {
			t.Errorf("Resets = %d, want 1", n)
		}
		if at, ok := m.Reset(); !ok || time.Since(at) > time.Minute {
			t.Errorf("Reset = %v, %v; want a moment ago", at, ok)
		}
	}
	again, err := rdb.Get(context.Background(), a.Key()).Result()
	if err != nil || again == first {
		t.Fatalf("marker after the reset = %q, %v; want a new one (was %q)", again, err, first)
	}
	var prev dataset
	_ = json.Unmarshal([]byte(first), &prev)
	for name, logs := range map[string]*logBuffer{"a": &logsA, "b": &logsB} {
		lines := logs.lines(t, "ERROR")
		if len(lines) != 1 {
			t.Fatalf("%s logged %d ERROR lines, want 1", name, len(lines))
		}
		if lines[0]["lost"] != Lost || lines[0]["previous_dataset"] != prev.ID {
			t.Errorf("%s's ERROR line %v does not name what was lost and the lost data set %s", name, lines[0], prev.ID)
		}
	}
}

// Reset reports a reset for Remember only; an instance that first reaches
// Redis when the marker is there already, or finds it unreachable, notices
// nothing.
func TestMarkerRememberAndUnreachable(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Client(t)
	var logs logBuffer
	m, err := New(rdb, Options{Prefix: prefix, Remember: 200 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	check(t, m)
	rdb.Del(context.Background(), m.Key())
	if !check(t, m) {
		t.Fatal("reset not noticed")
	}
	testutil.Eventually(t, 30*time.Second, "Reset to stop being reported after Remember", func() bool {
		_, ok := m.Reset()
		return !ok
	})
	if m.Resets() != 1 {
		t.Errorf("Resets = %d, want 1 (the count stays)", m.Resets())
	}

	late := newMarker(t, rdb, prefix, &logs)
	if check(t, late) || late.Resets() != 0 {
		t.Error("an instance that starts on a kept data set noticed a reset")
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	down := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = down.Close() })
	u := newMarker(t, down, prefix, &logs)
	if reset, err := u.Check(context.Background()); err == nil || reset {
		t.Errorf("Check on an unreachable Redis = %v, %v; want an error and no reset", reset, err)
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New accepted a nil client")
	}
}
