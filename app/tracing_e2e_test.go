package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"crmgate/api/answer"
	"crmgate/app"
	"crmgate/gateway"
	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
)

// One import into the sandbox's NXLink simulator, over real HTTP, traced
// into an in-memory exporter: the request's server span continues the
// caller's traceparent, and the validation pass and the provider call are
// its children, the call carrying NXLink's trace id.
func TestTraceOfOneImport(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	gw := startGW(t, gwSetup{options: app.Options{TracerProvider: tp}})

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	body := []byte(`{"connection":"sandbox-nxlink","customers":[{"ref":"crm-17","name":"Li Heng","whatsapp":"+86 152 6666 7780","tags":["VIP"]}]}`)
	resp := apptest.Do(t, http.MethodPost, gw.URL+"/v1/customers", gw.App.DevToken, body, "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if resp.Status != http.StatusOK {
		t.Fatalf("import: %d %s", resp.Status, resp.Body)
	}
	var ans answer.Answer
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Succeeded != 1 || len(ans.ProviderCalls) != 1 || ans.ProviderCalls[0].TraceID == "" {
		t.Fatalf("want one record succeeded through one call with a provider trace id: %s", resp.Body)
	}

	find := func(name string) (sp tracetest.SpanStub, n int) {
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				sp, n = s, n+1
			}
		}
		return sp, n
	}
	// The server span ends as its handler returns, which may be just after
	// the answer reached the client.
	testutil.Eventually(t, 10*time.Second, "the request's span", func() bool { _, n := find("POST /v1/customers"); return n == 1 })

	reqSpan, _ := find("POST /v1/customers")
	if got := reqSpan.SpanContext.TraceID().String(); got != callerTrace {
		t.Errorf("request span trace id %s, want the caller's %s", got, callerTrace)
	}
	if got := reqSpan.Parent.SpanID().String(); got != callerSpan || !reqSpan.Parent.IsRemote() {
		t.Errorf("request span parent %s (remote %v), want the caller's span %s", got, reqSpan.Parent.IsRemote(), callerSpan)
	}
	if reqSpan.SpanKind != trace.SpanKindServer {
		t.Errorf("request span kind %v", reqSpan.SpanKind)
	}
	if got := attr(reqSpan, "crmgate.request_id"); got.AsString() != resp.Header.Get("X-Request-ID") || got.AsString() == "" {
		t.Errorf("request span crmgate.request_id %q, answer's X-Request-ID %q", got.AsString(), resp.Header.Get("X-Request-ID"))
	}

	val, n := find(gateway.SpanValidation)
	if n != 1 {
		t.Fatalf("%d validation spans, want 1: %v", n, spanNames(exp.GetSpans()))
	}
	call, n := find(gateway.SpanProviderCall)
	if n != 1 {
		t.Fatalf("%d provider-call spans, want 1: %v", n, spanNames(exp.GetSpans()))
	}
	for _, child := range []tracetest.SpanStub{val, call} {
		if child.SpanContext.TraceID() != reqSpan.SpanContext.TraceID() || child.Parent.SpanID() != reqSpan.SpanContext.SpanID() {
			t.Errorf("span %s: trace %s parent %s, want a child of the request span %s/%s", child.Name,
				child.SpanContext.TraceID(), child.Parent.SpanID(), reqSpan.SpanContext.TraceID(), reqSpan.SpanContext.SpanID())
		}
	}
	if got := attr(val, "crmgate.records").AsInt64(); got != 1 {
		t.Errorf("validation span crmgate.records %d, want 1", got)
	}
	if call.SpanKind != trace.SpanKindClient {
		t.Errorf("provider-call span kind %v", call.SpanKind)
	}
	want := map[attribute.Key]attribute.Value{
		"crmgate.provider.trace_id": attribute.StringValue(ans.ProviderCalls[0].TraceID),
		"crmgate.connection":        attribute.StringValue("sandbox-nxlink"),
		"crmgate.provider":          attribute.StringValue("nxlink"),
		"crmgate.provider.path":     attribute.StringValue(ans.ProviderCalls[0].Path),
		"crmgate.records":           attribute.IntValue(1),
		"crmgate.attempt":           attribute.IntValue(1),
		"http.response.status_code": attribute.IntValue(http.StatusOK),
	}
	for k, v := range want {
		if got := attr(call, k); got != v {
			t.Errorf("provider-call span %s = %v, want %v", k, got.Emit(), v.Emit())
		}
	}
	if call.Status.Code.String() == "Error" {
		t.Errorf("provider-call span has an error status: %v", call.Status)
	}
}

func attr(s tracetest.SpanStub, k attribute.Key) attribute.Value {
	for _, kv := range s.Attributes {
		if kv.Key == k {
			return kv.Value
		}
	}
	return attribute.Value{}
}

func spanNames(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}
