package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"crmgate/internal/apptest"

	"go.opentelemetry.io/otel"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the sandbox's spans of an import
// reach the OTLP endpoint at shutdown: the batch exporter waits far longer
// than the test, so only the flush after the drain can have sent them.
func TestShutdownFlushesTraces(t *testing.T) {
	var mu sync.Mutex
	var names []string
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					names = append(names, sp.GetName())
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	defer otlp.Close()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	g := startGateway(t)
	tok := g.printed(t, regexp.MustCompile(`export CRMGATE_TOKEN=(\S+)`))[1]
	r := apptest.Do(t, http.MethodPost, g.base+"/v1/customers", tok,
		`{"connection":"sandbox-nxlink","customers":[{"ref":"crm-17","name":"Li Heng","whatsapp":"+86 152 6666 7780"}]}`)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"succeeded":1`) {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	early := len(names)
	mu.Unlock()
	if early != 0 {
		t.Fatalf("spans exported before shutdown: %d", early)
	}
	if err := g.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(names, ",")
	for _, want := range []string{"POST /v1/customers", "crmgate.validate", "crmgate.provider.call"} {
		if !strings.Contains(got, want) {
			t.Errorf("exported spans %v lack %q", names, want)
		}
	}
}
