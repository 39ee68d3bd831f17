// Package telemetry holds what crmgate's logs and metrics need from the
// libraries it uses: go-redis's own log lines routed into the one JSON
// stream of log/slog, and OpenTelemetry tracing from the standard OTEL_*
// variables.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// RedisLogger is go-redis's logger (redis.SetLogger) writing through slog:
// each line go-redis prints (a connection pool that cannot dial, a
// reconnection) becomes one WARN record, "source": "go-redis", in the same
// JSON stream as every other line, instead of a plain-text line in it.
type RedisLogger struct{ Logger *slog.Logger }

// Printf logs one go-redis line.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	lg.WarnContext(ctx, msg, "source", "go-redis")
}
