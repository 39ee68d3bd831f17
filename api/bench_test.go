package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"crmgate/api/answer"
	"crmgate/auth"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/schema"
)

// answeringProvider answers every record of a call succeeded, one call per
// batch, with a trace id: the least a provider can cost, so that what a
// benchmark measures is the API's own work on a request.
type answeringProvider struct{}

func (answeringProvider) Modes() []string { return []string{gateway.ModeMerge} }
func (answeringProvider) Translate(op gateway.Op, k fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return k.Customer(), nil, nil
}
func (answeringProvider) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	return []gateway.Call{{Method: http.MethodPost, Path: "/import", Body: []byte(`{}`), Records: recs}}, nil
}
func (answeringProvider) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	res := gateway.CallResult{Report: answer.CallReport{Path: "/import", HTTPStatus: 200, TraceID: "trace-1"}}
	for range call.Records {
		res.Outcomes = append(res.Outcomes, gateway.Outcome{Status: answer.StatusSucceeded, ProviderID: "p-1"})
	}
	return res, nil
}

// BenchmarkSingleImport: POST /v1/customers with one record, as the server
// serves it in production (JSON logs, metrics, the in-process history), to a
// provider that costs nothing; allocs/op is the API's per-request figure.
func BenchmarkSingleImport(b *testing.B) {
	conn, err := gateway.NewConnection(gateway.Common{ID: "c1", Provider: "fake", BaseURL: "http://127.0.0.1:1"}, answeringProvider{}, nil,
		staticRules{"c1": fieldconfig.MustCompile(fieldconfig.Config{Required: []string{"whatsapp"}})})
	if err != nil {
		b.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Options{HS256Secret: testSecret, Issuer: "crmgate", Audience: "crmgate"})
	if err != nil {
		b.Fatal(err)
	}
	s := New(Options{Connections: []*gateway.Connection{conn}, Service: &gateway.Service{}, Verifier: v,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), History: history.NewMemory(history.Options{})})
	tok, err := auth.Mint(auth.MintOptions{Secret: testSecret, Issuer: "crmgate", Audience: "crmgate", Subject: "app1",
		Scopes: auth.Scopes, Connections: []string{"c1"}, TTL: 1 << 62})
	if err != nil {
		b.Fatal(err)
	}
	const body = `{"connection":"c1","customers":[{"whatsapp":"+8615266667780","name":"Li Lei","ref":"r-1"}]}`
	// The request is built once and copied for each iteration, with its
	// own body, so that what is measured is the server's work.
	tmpl := httptest.NewRequest(http.MethodPost, "/v1/customers", nil)
	tmpl.Header.Set("Content-Type", "application/json")
	tmpl.Header.Set("Authorization", "Bearer "+tok)
	tmpl.ContentLength = int64(len(body))
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		req := *tmpl
		req.Body = io.NopCloser(strings.NewReader(body))
		clear(w.header)
		w.status, w.body = 0, w.body[:0]
		s.ServeHTTP(w, &req)
		if w.status != http.StatusOK || !strings.Contains(string(w.body), `"succeeded":1`) {
			b.Fatalf("%d %s", w.status, w.body)
		}
	}
}

// discardWriter is a ResponseWriter that keeps the last answer, reused
// from one request to the next.
type discardWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, b...)
	return len(b), nil
}
