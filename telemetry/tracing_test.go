package telemetry

import (
	"context"
	"strings"
	"testing"

	"crmgate/internal/otlptest"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// With no OTEL_* variable, tracing is off: no provider, and the global tracer
// is still the no-op one (its spans record nothing and carry no ids).
func TestTracingOffWithoutOTELVariables(t *testing.T) {
	otlptest.ClearEnv(t)
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
	otlptest.ClearEnv(t)
	otlp := otlptest.Start(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
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
	reqs := otlp.Requests()
	if len(reqs) == 0 {
		t.Fatal("nothing exported by the time Shutdown returned")
	}
	req := reqs[0]
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
}
