package redisclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"crmgate/internal/redistest"
	"crmgate/redisclient"
)

// pingFails pings rs through rdb, pauses rs, and pings again with a
// deadline of 100 ms: that ping must fail within guard.
func pingFails(t *testing.T, rs *redistest.Process, rdb redis.UniversalClient, guard time.Duration) {
	t.Helper()
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	rs.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := redistest.Within(t, guard, func() error { return rdb.Ping(ctx).Err() }); err == nil {
		t.Fatal("a Redis that stopped answering answered the ping")
	}
}

// A command ends at its context's deadline against a Redis that stops
// answering, however long the client's own read timeout. Without
// ContextTimeoutEnabled go-redis bounds a read only by that timeout: this
// URL's is an hour, so the ping would hang.
func TestFromURLCommandEndsAtItsDeadline(t *testing.T) {
	rs := redistest.StartProcess(t)
	rdb, err := redisclient.FromURL(rs.PatientURL() + "&max_retries=0")
	if err != nil {
		t.Fatal(err)
	}
	pingFails(t, rs, rdb, 10*time.Second)
}

// The same for the client of the redis block, whose read timeout is
// go-redis's default, 5 s: the ping must end well before it.
func TestNewCommandEndsAtItsDeadline(t *testing.T) {
	rs := redistest.StartProcess(t)
	rdb, err := redisclient.New(redisclient.Options{Addrs: []string{rs.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	pingFails(t, rs, rdb, 3*time.Second)
}
