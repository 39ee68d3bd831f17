package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"crmgate/idempotency"
	"crmgate/ratelimit"
)

// /readyz is 503 once a shutdown started, and while a check says the
// instance must get no traffic; a check that only fails is degraded, 200.
func TestReadyzDrainAndUnready(t *testing.T) {
	var unready bool
	s, _ := newTestServerWith(t, 0, func(o *Options) {
		o.Ready = map[string]Check{"config": func(context.Context) CheckResult {
			return CheckResult{OK: !unready, Detail: "d", Unready: unready}
		}}
	})
	status := func() (int, string) {
		w := do(t, s, call{method: http.MethodGet, path: "/readyz"})
		var v struct{ Status string }
		_ = json.Unmarshal(w.Body.Bytes(), &v)
		return w.Code, v.Status
	}
	if code, st := status(); code != http.StatusOK || st != "ready" {
		t.Fatalf("before: %d %s", code, st)
	}
	unready = true
	if code, st := status(); code != http.StatusServiceUnavailable || st != "not_ready" {
		t.Fatalf("no field configuration loaded: %d %s, want 503 not_ready", code, st)
	}
	unready = false
	s.Drain()
	if code, st := status(); code != http.StatusServiceUnavailable || st != "shutting_down" {
		t.Fatalf("draining: %d %s, want 503 shutting_down", code, st)
	}
	// Still serving while draining.
	if w := do(t, s, call{method: http.MethodGet, path: "/healthz"}); w.Code != http.StatusOK {
		t.Fatalf("/healthz while draining: %d", w.Code)
	}
}

// A request no route matched is logged with the path asked for, as JSON
// with the same keys as every other line.
func TestNotFoundLogsThePath(t *testing.T) {
	var buf bytes.Buffer
	s, _ := newTestServerWith(t, 0, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	if w := do(t, s, call{method: http.MethodGet, path: "/v2/nothing-here"}); w.Code != http.StatusNotFound {
		t.Fatalf("status %d", w.Code)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["path"] != "/v2/nothing-here" || line["status"] != float64(404) {
		t.Fatalf("404 line: %v", line)
	}
}

// /metrics shows the build and each connection's circuit state.
func TestMetricsBuildInfoAndBreakerState(t *testing.T) {
	s, _ := newTestServer(t, 0)
	w := do(t, s, call{method: http.MethodGet, path: "/metrics"})
	body := w.Body.String()
	for _, want := range []string{`crmgate_build_info{goversion="go`, `crmgate_breaker_state{connection="c1",provider="fake"} 0`, `crmgate_breaker_state{connection="c2",provider="fake"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A processed import logs one line with its connection, counts, the
// provider's trace ids and its duration.
func TestImportLogLine(t *testing.T) {
	var buf bytes.Buffer
	s, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	body := `{"customers":[{"ref":"a","whatsapp":"+86 152 6666 7780"},{"ref":"b","whatsapp":"8615266667781"},{"ref":"c","whatsapp":"8615266667782"},{"ref":"d"}]}`
	if w := do(t, s, call{path: "/v1/customers", ctype: "application/json", token: token(t, nil, nil, nil), body: strings.NewReader(body)}); w.Code != 200 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	found := logLine(t, &buf, "import")
	if found == nil {
		t.Fatalf("no import line in %s", buf.String())
	}
	traces, _ := found["trace_ids"].([]any)
	if found["connection"] != "c1" || found["total"] != float64(4) || found["succeeded"] != float64(3) || found["failed"] != float64(1) ||
		found["unknown"] != float64(0) || len(traces) != 2 || traces[0] == traces[1] || found["duration_ms"] == nil {
		t.Fatalf("import line %v", found)
	}
}

// An answer reaches its caller before the lines logged after it, the
// import's and the request's (written by the middleware on the way out):
// here those lines are held until the caller has read its whole answer,
// which it could not do if the answer waited for them. For an import and a
// validation, for a small answer, which net/http would keep in its buffer,
// as for a large one.
func TestAnswerDoesNotWaitForItsLogLines(t *testing.T) {
	held := &holdingHandler{msgs: []string{"import", "request"}, release: make(chan struct{})}
	s, _ := newTestServerWith(t, 1<<20, func(o *Options) { o.Logger = slog.New(held); o.MaxRecords = 200 })
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer close(held.release)
	tok := token(t, nil, nil, nil)
	for _, path := range []string{"/v1/customers", "/v1/customers/validate"} {
		for _, n := range []int{1, 200} {
			resp, b := ownConnection(t, hs, tok, http.MethodPost, path, recordsBody(n))
			checkWholeAnswer(t, n, resp, b)
		}
	}
}

// holdingHandler is a slog.Handler whose records with one of the messages
// msgs wait until release is closed.
type holdingHandler struct {
	msgs    []string
	release chan struct{}
}

func (h *holdingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *holdingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *holdingHandler) WithGroup(string) slog.Handler            { return h }
func (h *holdingHandler) Handle(_ context.Context, r slog.Record) error {
	if slices.Contains(h.msgs, r.Message) {
		<-h.release
	}
	return nil
}

// logLine is the last line of a JSON log whose msg is msg (nil: none); every
// line must be one JSON object.
func logLine(t *testing.T, buf *bytes.Buffer, msg string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log %q: %v", l, err)
		}
		if v["msg"] == msg {
			found = v
		}
	}
	return found
}

// The metrics fed by imports: validation errors by code, an idempotency
// replay, a 429.
func TestMetricsAfterTheirActions(t *testing.T) {
	lim, err := ratelimit.NewMemory(ratelimit.Limit{Rate: 1, Burst: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServerWith(t, 1<<20, func(o *Options) {
		o.Idempotency = idempotency.NewMemory(idempotency.Options{})
		o.RateLimiter = lim
	})
	tok := token(t, nil, nil, nil)
	body := `{"customers":[{"ref":"a","whatsapp":"8615266667781"},{"ref":"b"}]}`
	post := func() int {
		req := httptest.NewRequest(http.MethodPost, "/v1/customers", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", "k1")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	codes := []int{post(), post(), post()}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 200 200 429", codes)
	}
	w := do(t, s, call{method: http.MethodGet, path: "/metrics"})
	m := w.Body.String()
	for _, want := range []string{
		`crmgate_validation_errors_total{code="required",connection="c1"} 1`,
		`crmgate_idempotency_replays_total 1`,
		`crmgate_rate_limited_total 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// The typed answers of /healthz and /readyz are the bytes the maps they
// replaced wrote: keys in the same order, redis only when a check says it.
func TestHealthAndReadinessBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ready map[string]Check
		path  string
		want  string
	}{
		{"healthz", nil, "/healthz", `{"status":"ok"}`},
		{"readyz without redis", map[string]Check{
			"config": func(context.Context) CheckResult { return CheckResult{OK: true, Detail: "ok"} },
		}, "/readyz", `{"checks":{"config":{"detail":"ok","ok":true}},"status":"ready"}`},
		{"readyz with redis", map[string]Check{
			"config": func(context.Context) CheckResult { return CheckResult{OK: true, Detail: "ok"} },
			"redis":  func(context.Context) CheckResult { return CheckResult{State: "unreachable", Detail: "down"} },
		}, "/readyz", `{"checks":{"config":{"detail":"ok","ok":true},"redis":{"detail":"down","ok":false}},"redis":"unreachable","status":"degraded"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newTestServerWith(t, 0, func(o *Options) { o.Ready = tc.ready })
			w := do(t, s, call{method: http.MethodGet, path: tc.path})
			if got := w.Body.String(); w.Code != http.StatusOK || got != tc.want {
				t.Errorf("%d %s, want %s", w.Code, got, tc.want)
			}
		})
	}
}
