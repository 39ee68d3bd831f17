// Package redistest gives tests the real Redis that CI starts (env REDIS_URL):
// without it a test fails under CI=true and is skipped elsewhere, with a
// message saying how to run it.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// URL returns REDIS_URL, or ends the test: t.Fatal under CI=true, t.Skip
// otherwise.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_URL is not set: CI must provide a redis-server (.ci/run starts one)")
		}
		t.Skip("REDIS_URL is not set: skipping a Redis test (run .ci/run, or set REDIS_URL=redis://127.0.0.1:6379/0)")
	}
	return u
}

// Client connects to REDIS_URL and returns the client and a key prefix of the
// test's own; both are cleaned up when the test ends (the keys under the
// prefix are deleted).
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at REDIS_URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "crmgate-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}
