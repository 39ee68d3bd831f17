// Package otlptest is an OTLP/HTTP trace endpoint for tests of tracing: it
// keeps what an exporter sends, and clears the OTEL_* environment a test
// must not inherit.
package otlptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Collector receives OTLP/HTTP trace exports (protobuf, POST /v1/traces)
// on a loopback port.
type Collector struct {
	URL string // the endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT

	mu   sync.Mutex
	reqs []*coltracepb.ExportTraceServiceRequest
}

// Start serves a collector until the test ends. A request that is not an
// OTLP protobuf export to /v1/traces is answered 400 and not kept.
func Start(t testing.TB) *Collector {
	t.Helper()
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, &req)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// Requests are the exports received so far, in arrival order.
func (c *Collector) Requests() []*coltracepb.ExportTraceServiceRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*coltracepb.ExportTraceServiceRequest(nil), c.reqs...)
}

// SpanNames are the names of the spans received so far, in arrival order.
func (c *Collector) SpanNames() []string {
	var names []string
	for _, req := range c.Requests() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					names = append(names, sp.GetName())
				}
			}
		}
	}
	return names
}

// ClearEnv unsets every OTEL_* variable for the test; they are restored
// after it.
func ClearEnv(t testing.TB) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
}
