package testutil

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps the failure instead of failing, and
// stops the failing goroutine the way t.Fatalf does.
type recorder struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.msg = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

// run calls f on a goroutine of its own, as a test body runs, and returns
// what it failed with ("" when it did not).
func run(f func(tb testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	msg := run(func(tb testing.TB) {
		Eventually(tb, time.Minute, "the third call", func() bool { calls++; return calls == 3 })
	})
	if msg != "" || calls != 3 {
		t.Fatalf("failed with %q after %d calls; want no failure after 3", msg, calls)
	}
}

func TestEventuallyFailsNamingWhatItWaitedFor(t *testing.T) {
	msg := run(func(tb testing.TB) {
		Eventually(tb, 30*time.Millisecond, "the moon", func() bool { return false })
	})
	if msg != "not within 30ms: the moon" {
		t.Fatalf("failure %q", msg)
	}
}

func TestEventuallyNilQuotesTheLastError(t *testing.T) {
	n := 0
	msg := run(func(tb testing.TB) {
		EventuallyNil(tb, 30*time.Millisecond, "the replica", func() error {
			n++
			return errors.New("lag " + strings.Repeat("x", n%2+1))
		})
	})
	if !strings.HasPrefix(msg, "not within 30ms: the replica: lag x") {
		t.Fatalf("failure %q", msg)
	}
}
