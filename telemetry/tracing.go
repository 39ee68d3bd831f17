package telemetry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ServiceName is the service.name of crmgate's spans unless
// OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names another.
const ServiceName = "crmgate"

// ScopeName names the instrumentation scope of crmgate's own spans.
const ScopeName = "crmgate"

// Propagator is what crmgate takes from (and would give to) its callers'
// headers: W3C traceparent and tracestate, and W3C baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracing is the process's OpenTelemetry tracing. Provider is nil when
// tracing is off: nothing is traced and the global tracer stays the no-op one.
type Tracing struct {
	Provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Enabled says whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.Provider != nil }

// Shutdown exports the spans still buffered and stops the exporter; a no-op
// when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// TracingWanted says, from the standard OTEL_* variables, whether traces are
// to be exported: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// or OTEL_TRACES_EXPORTER set (OTEL_TRACES_EXPORTER=none is off), and
// OTEL_SDK_DISABLED not true.
func TracingWanted(lookup func(string) (string, bool)) (bool, error) {
	if v, _ := lookup("OTEL_SDK_DISABLED"); strings.EqualFold(strings.TrimSpace(v), "true") {
		return false, nil
	}
	exp, expSet := lookup("OTEL_TRACES_EXPORTER")
	exp = strings.ToLower(strings.TrimSpace(exp))
	switch {
	case exp == "none":
		return false, nil
	case exp != "" && exp != "otlp":
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: crmgate exports traces by OTLP only (otlp or none)", exp)
	}
	if p := otlpProtocol(lookup); p != "" && p != "http/protobuf" {
		return false, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL=%q: crmgate exports traces by OTLP over HTTP only (http/protobuf)", p)
	}
	_, ep := lookup("OTEL_EXPORTER_OTLP_ENDPOINT")
	_, tep := lookup("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	return ep || tep || (expSet && exp == "otlp"), nil
}

func otlpProtocol(lookup func(string) (string, bool)) string {
	if v, ok := lookup("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); ok {
		return strings.ToLower(strings.TrimSpace(v))
	}
	v, _ := lookup("OTEL_EXPORTER_OTLP_PROTOCOL")
	return strings.ToLower(strings.TrimSpace(v))
}

// SetupTracing starts tracing as the process's OTEL_* variables say (see
// TracingWanted). When on, it installs the tracer provider (OTLP over HTTP,
// batched; sampler from OTEL_TRACES_SAMPLER, parent-based always-on by
// default) and the TraceContext+Baggage propagator globally; when off it
// changes nothing and returns a Tracing whose Provider is nil.
func SetupTracing(ctx context.Context) (*Tracing, error) {
	on, err := TracingWanted(os.LookupEnv)
	if err != nil || !on {
		return &Tracing{}, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", ServiceName), attribute.String("service.version", buildVersion())),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(Propagator())
	return &Tracing{Provider: tp, shutdown: tp.Shutdown}, nil
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}
