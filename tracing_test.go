package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"

	"crmgate/internal/apptest"
	"crmgate/internal/otlptest"
)

// With OTEL_EXPORTER_OTLP_ENDPOINT set, the sandbox's spans of an import
// reach the OTLP endpoint at shutdown: the batch exporter waits far longer
// than the test, so only the flush after the drain can have sent them.
func TestShutdownFlushesTraces(t *testing.T) {
	otlp := otlptest.Start(t)
	otlptest.ClearEnv(t)
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
	if early := len(otlp.SpanNames()); early != 0 {
		t.Fatalf("spans exported before shutdown: %d", early)
	}
	if err := g.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	names := otlp.SpanNames()
	got := strings.Join(names, ",")
	for _, want := range []string{"POST /v1/customers", "crmgate.validate", "crmgate.provider.call"} {
		if !strings.Contains(got, want) {
			t.Errorf("exported spans %v lack %q", names, want)
		}
	}
}
