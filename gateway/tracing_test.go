package gateway

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A call that fails twice is two attempt spans, each with an error status
// and its attempt number, beside one validation span.
func TestProviderCallSpansOnFailure(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	s := &Service{Retry: fast.Retry, Tracer: tp.Tracer("test")}
	f := &flaky{perCall: 2}
	f.fails.Store(100)
	conn := newConn(t, f, Common{ID: "c", Provider: "fake", BaseURL: "http://x", Retries: new(1)})
	ans, err := s.Import(context.Background(), conn, Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(2)})
	if err != nil || ans.Unknown != 2 {
		t.Fatalf("%+v %v", ans, err)
	}
	var calls, checks int
	for _, sp := range exp.GetSpans() {
		switch sp.Name {
		case SpanValidation:
			checks++
		case SpanProviderCall:
			calls++
			if sp.Status.Code != codes.Error || sp.Status.Description == "" {
				t.Errorf("attempt span status %+v, want an error", sp.Status)
			}
			got := map[string]int64{}
			for _, kv := range sp.Attributes {
				if kv.Key == AttrAttempt || kv.Key == AttrRecords {
					got[string(kv.Key)] = kv.Value.AsInt64()
				}
			}
			if got[string(AttrAttempt)] != int64(calls) || got[string(AttrRecords)] != 2 {
				t.Errorf("attempt span %d attributes %v", calls, sp.Attributes)
			}
		}
	}
	if checks != 1 || calls != 2 {
		t.Fatalf("%d validation and %d provider-call spans, want 1 and 2", checks, calls)
	}
}

// BenchmarkImport100Traced is BenchmarkImport100 with every span recorded,
// for comparison.
func BenchmarkImport100Traced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	benchImport(b, &Service{Tracer: tp.Tracer("bench")})
}
