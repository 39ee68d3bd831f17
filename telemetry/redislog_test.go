package telemetry

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"crmgate/internal/testutil"

	"github.com/redis/go-redis/v9"
)

// What go-redis logs itself, once routed, is one JSON object a line, as
// every other line of the stream; here its pool dialling a Redis that is not
// there.
func TestRedisLogLinesAreJSON(t *testing.T) {
	var buf testutil.SyncBuffer
	redis.SetLogger(RedisLogger{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: time.Second, MaxRetries: 0, MinIdleConns: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = rdb.Ping(ctx).Err()
	_ = rdb.Close()
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	n := 0
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not one JSON object: %q", sc.Text())
		}
		if line["source"] != "go-redis" || line["level"] != "WARN" {
			t.Errorf("line %v", line)
		}
		n++
	}
	if n == 0 {
		t.Fatal("nothing logged")
	}
}
