package testutil

import (
	"errors"
	"testing"
	"time"
)

// pollEvery is how often Eventually asks again.
const pollEvery = 10 * time.Millisecond

// Eventually calls cond until it reports true, and fails the test, naming
// what it waited for, when within passes first.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	EventuallyNil(t, within, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// EventuallyNil is Eventually for a condition that says why it does not hold
// yet: cond is called until it returns nil, and the failure quotes its last
// error.
func EventuallyNil(t testing.TB, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			if err == errNotYet {
				t.Fatalf("not within %v: %s", within, what)
			}
			t.Fatalf("not within %v: %s: %v", within, what, err)
		}
		time.Sleep(pollEvery)
	}
}

// errNotYet is Eventually's condition not holding yet.
var errNotYet = errors.New("not yet")
