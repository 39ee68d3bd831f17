package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// clearOTEL unsets every OTEL_* variable for the test (restored after it).
func clearOTEL(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// With no OTEL_* variable, tracing is off: no provider, and the global tracer
// is still the no-op one (its spans record nothing and carry no ids).
func TestTracingOffWithoutOTELVariables(t *testing.T) {
	clearOTEL(t)
	tr, err := SetupTracing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() || tr.Provider != nil {
		t.Fatalf("tracing on without any OTEL_* variable: %+v", tr)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, span := otel.GetTracerProvider().Tracer("t").Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatalf("the global tracer records spans: %+v", span.SpanContext())
	}
}

func TestTracingWanted(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		on, bad bool
	}{
		{env: nil},
		{env: map[string]string{"OTEL_SERVICE_NAME": "x"}},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, on: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, on: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, on: true},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}},
		{env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, bad: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, bad: true},
	} {
		on, err := TracingWanted(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if on != tc.on || (err != nil) != tc.bad {
			t.Errorf("%v: on %v err %v, want on %v bad %v", tc.env, on, err, tc.on, tc.bad)
		}
	}
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go by OTLP over HTTP to it,
// flushed at Shutdown, under the service name crmgate; the propagator is
// set globally to W3C trace context and baggage.
func TestTracingExportsToTheOTLPEndpoint(t *testing.T) {
	clearOTEL(t)
	got := make(chan *coltracepb.ExportTraceServiceRequest, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		got <- &req
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	tr, err := SetupTracing(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("tracing off with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	if _, ok := otel.GetTracerProvider().(noop.TracerProvider); ok {
		t.Fatal("global tracer provider not set")
	}
	if f := otel.GetTextMapPropagator().Fields(); !strings.Contains(strings.Join(f, ","), "traceparent") || !strings.Contains(strings.Join(f, ","), "baggage") {
		t.Errorf("global propagator fields %v, want traceparent and baggage", f)
	}
	_, span := tr.Provider.Tracer("t").Start(context.Background(), "one", trace.WithSpanKind(trace.SpanKindServer))
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		rs := req.GetResourceSpans()
		if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || rs[0].GetScopeSpans()[0].GetSpans()[0].GetName() != "one" {
			t.Fatalf("export %v", req)
		}
		name := ""
		for _, kv := range rs[0].GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				name = kv.GetValue().GetStringValue()
			}
		}
		if name != ServiceName {
			t.Errorf("service.name %q, want %q", name, ServiceName)
		}
	default:
		t.Fatal("nothing exported by the time Shutdown returned")
	}
}
