package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"crmgate/api/answer"
	"crmgate/auth"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fakeProvider accepts everything, two records per call, and remembers what
// it was sent.
type fakeProvider struct {
	mu   sync.Mutex
	sent []int
}

func (f *fakeProvider) Modes() []string { return []string{gateway.ModeMerge} }
func (f *fakeProvider) Translate(op gateway.Op, k fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return k.Customer(), nil, nil
}
func (f *fakeProvider) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	var calls []gateway.Call
	for i := 0; i < len(recs); i += 2 {
		end := min(i+2, len(recs))
		calls = append(calls, gateway.Call{Method: "POST", Path: "/import", Body: []byte(`{"n":1}`), Records: recs[i:end]})
	}
	return calls, nil
}
func (f *fakeProvider) Do(ctx context.Context, call *gateway.Call) (gateway.CallResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := gateway.CallResult{Report: answer.CallReport{HTTPStatus: 200, TraceID: fmt.Sprintf("trace-%d", len(f.sent))}}
	for _, r := range call.Records {
		f.sent = append(f.sent, r.Index)
		res.Outcomes = append(res.Outcomes, gateway.Outcome{Status: answer.StatusSucceeded})
	}
	return res, nil
}

type staticRules map[string]*fieldconfig.Rules

func (s staticRules) Rules(conn string) *fieldconfig.Rules { return s[conn] }

func newTestServer(t *testing.T, maxBody int64) (*Server, *fakeProvider) {
	t.Helper()
	return newTestServerWith(t, maxBody, nil)
}

func newTestServerWith(t *testing.T, maxBody int64, mutate func(*Options)) (*Server, *fakeProvider) {
	t.Helper()
	fp := &fakeProvider{}
	rules := staticRules{"c1": fieldconfig.MustCompile(fieldconfig.Config{Required: []string{"whatsapp"}})}
	var conns []*gateway.Connection
	for _, id := range []string{"c1", "c2"} {
		conn, err := gateway.NewConnection(gateway.Common{ID: id, Provider: "fake", BaseURL: "http://127.0.0.1:1"}, fp, nil, rules)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	v, err := auth.NewVerifier(auth.Options{HS256Secret: testSecret, Issuer: "crmgate", Audience: "crmgate"})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Connections: conns, Service: &gateway.Service{}, Verifier: v, MaxBodyBytes: maxBody, MaxRecords: 5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mutate != nil {
		mutate(&o)
	}
	return New(o), fp
}

// withProvider puts p behind c1, the first connection of o.
func withProvider(t *testing.T, o *Options, p gateway.Provider) {
	t.Helper()
	conn, err := gateway.NewConnection(o.Connections[0].Common, p, nil, staticRules{})
	if err != nil {
		t.Fatal(err)
	}
	o.Connections[0] = conn
}

func token(t *testing.T, mutate func(jwt.MapClaims), method jwt.SigningMethod, key any) string {
	t.Helper()
	claims := jwt.MapClaims{"sub": "app1", "iss": "crmgate", "aud": "crmgate", "exp": time.Now().Add(time.Hour).Unix(),
		"scope": "customers:write customers:read", "connections": []string{"c1"}}
	if mutate != nil {
		mutate(claims)
	}
	if method == nil {
		method, key = jwt.SigningMethodHS256, testSecret
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type call struct {
	method, path, ctype, token, reqID string
	body                              io.Reader
}

func do(t *testing.T, h http.Handler, c call) *httptest.ResponseRecorder {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	req := httptest.NewRequest(c.method, c.path, c.body)
	if c.ctype != "" {
		req.Header.Set("Content-Type", c.ctype)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.reqID != "" {
		req.Header.Set("X-Request-ID", c.reqID)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, w.Body)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != w.Code || p.Type == "" || p.Title == "" || p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-ID") {
		t.Errorf("problem %+v does not match status %d / X-Request-ID %q", p, w.Code, w.Header().Get("X-Request-ID"))
	}
	return p
}

const oneRecord = `{"connection":"c1","customers":[{"whatsapp":"+86 152 6666 7780"}]}`

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	srv, fp := newTestServer(t, 1<<20)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "app1", "iss": "crmgate", "aud": "crmgate",
		"exp": time.Now().Add(time.Hour).Unix(), "scope": "customers:write", "connections": []string{"*"}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	tests := []struct {
		name   string
		token  string
		body   string
		status int
	}{
		{"no token", "", oneRecord, 401},
		{"expired", token(t, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, nil, nil), oneRecord, 401},
		{"no exp", token(t, func(c jwt.MapClaims) { delete(c, "exp") }, nil, nil), oneRecord, 401},
		{"alg none", none, oneRecord, 401},
		{"wrong secret", token(t, nil, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx")), oneRecord, 401},
		{"wrong audience", token(t, func(c jwt.MapClaims) { c["aud"] = "someone-else" }, nil, nil), oneRecord, 401},
		{"wrong issuer", token(t, func(c jwt.MapClaims) { c["iss"] = "someone-else" }, nil, nil), oneRecord, 401},
		{"garbage", "not.a.jwt", oneRecord, 401},
		{"missing scope", token(t, func(c jwt.MapClaims) { c["scope"] = "customers:read" }, nil, nil), oneRecord, 403},
		{"connection not allowed", token(t, nil, nil, nil), `{"connection":"c2","customers":[{"whatsapp":"8615266667780"}]}`, 403},
		{"connection not allowed and missing", token(t, nil, nil, nil), `{"connection":"nope","customers":[{"whatsapp":"8615266667780"}]}`, 403},
		{"star token, connection missing", token(t, func(c jwt.MapClaims) { c["connections"] = []string{"*"} }, nil, nil), `{"connection":"nope","customers":[{"whatsapp":"8615266667780"}]}`, 404},
		{"expired within leeway", token(t, func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() }, nil, nil), oneRecord, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(t, srv, call{path: "/v1/customers", ctype: "application/json", token: tt.token, body: strings.NewReader(tt.body)})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != 200 {
				decodeProblem(t, w)
			}
		})
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if len(fp.sent) != 1 {
		t.Errorf("the provider was sent %d records; only the one good request should reach it", len(fp.sent))
	}
}

// chunked hides the length so the limit must be enforced while reading.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBadInput(t *testing.T) {
	t.Parallel()
	tok := token(t, nil, nil, nil)
	big := `{"connection":"c1","customers":[{"remarks":"` + strings.Repeat("x", 5000) + `"}]}`
	tests := []struct {
		name   string
		ctype  string
		body   io.Reader
		status int
		typ    string
	}{
		{"malformed JSON", "application/json", strings.NewReader(`{"connection":"c1","customers":[{]}`), 400, ProblemMalformed},
		{"empty body", "application/json", strings.NewReader(``), 400, ProblemMalformed},
		{"two values", "application/json", strings.NewReader(oneRecord + oneRecord), 400, ProblemMalformed},
		{"unknown envelope key", "application/json", strings.NewReader(`{"connection":"c1","all_or_nothin":true,"customers":[{}]}`), 400, ProblemMalformed},
		{"wrong content type", "text/plain", strings.NewReader(oneRecord), 415, ProblemMediaType},
		{"no content type", "", strings.NewReader(oneRecord), 415, ProblemMediaType},
		{"over the limit, declared", "application/json", strings.NewReader(big), 413, ProblemTooLarge},
		{"over the limit, chunked", "application/json", chunked{strings.NewReader(big)}, 413, ProblemTooLarge},
		{"too many records", "application/json", strings.NewReader(`{"connection":"c1","customers":[{},{},{},{},{},{}]}`), 422, ProblemValidation},
		{"no customers", "application/json", strings.NewReader(`{"connection":"c1"}`), 422, ProblemValidation},
		{"bad mode", "application/json", strings.NewReader(`{"connection":"c1","mode":"upsert","customers":[{}]}`), 422, ProblemValidation},
		{"mode the provider cannot honour", "application/json", strings.NewReader(`{"connection":"c1","mode":"replace","customers":[{}]}`), 422, ProblemUnsupported},
		{"bad region before a mode the provider cannot honour", "application/json", strings.NewReader(`{"connection":"c1","mode":"replace","default_region":"nowhere","customers":[{}]}`), 422, ProblemValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, fp := newTestServer(t, 4096)
			w := do(t, srv, call{path: "/v1/customers", ctype: tt.ctype, token: tok, body: tt.body})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if p := decodeProblem(t, w); p.Type != tt.typ {
				t.Errorf("type %q, want %q", p.Type, tt.typ)
			}
			if len(fp.sent) != 0 {
				t.Errorf("records were sent: %v", fp.sent)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, 1<<20)
	w := do(t, srv, call{method: "GET", path: "/healthz", reqID: "abc-123"})
	if got := w.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID = %q, want the caller's", got)
	}
	if st := w.Header().Get("Server-Timing"); !strings.HasPrefix(st, "total;dur=") {
		t.Errorf("Server-Timing = %q on /healthz, want the total", st)
	}
	w = do(t, srv, call{method: "GET", path: "/nope"})
	if st := w.Header().Get("Server-Timing"); !strings.HasPrefix(st, "total;dur=") {
		t.Errorf("Server-Timing = %q on a problem, want the total", st)
	}
	if got := w.Header().Get("X-Request-ID"); len(got) != 32 {
		t.Errorf("X-Request-ID = %q, want a generated id", got)
	}
	if w.Code != 404 {
		t.Errorf("status %d", w.Code)
	}
	decodeProblem(t, w)
}

type importAnswer struct {
	answer.Answer
	Results []answer.Result `json:"results"`
}

func TestOneResultPerRecord(t *testing.T) {
	t.Parallel()
	tok := token(t, nil, nil, nil)
	body := `{"customers":[
		{"ref":"a","whatsapp":"+86 152 6666 7780"},
		{"ref":"b","whatsapp":"call me"},
		{"ref":"c"},
		{"ref":"d","whatsapp":"8615266667781","level":"high"},
		{"ref":"e","whatsapp":"8615266667782","nickname":"x"}]}`
	srv, fp := newTestServer(t, 1<<20)
	// The token allows exactly one connection, so the body may omit it.
	w := do(t, srv, call{path: "/v1/customers", ctype: "application/json", token: tok, body: strings.NewReader(body)})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var a importAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a.Total != 5 || a.Succeeded+a.Failed+a.Unknown != a.Total || len(a.Results) != 5 {
		t.Fatalf("counts %d/%d/%d of %d with %d results", a.Succeeded, a.Failed, a.Unknown, a.Total, len(a.Results))
	}
	want := []struct {
		status answer.Status
		code   schema.Code
		field  string
	}{
		{answer.StatusSucceeded, "", ""},
		{answer.StatusFailed, schema.CodeInvalidPhone, "whatsapp"},
		{answer.StatusFailed, schema.CodeRequired, "whatsapp"},
		{answer.StatusFailed, schema.CodeInvalidValue, "level"},
		{answer.StatusSucceeded, "", ""},
	}
	for i, r := range a.Results {
		if r.Index != i || r.Status != want[i].status {
			t.Errorf("result %d: index %d status %s, want %s", i, r.Index, r.Status, want[i].status)
		}
		if want[i].code != "" && (len(r.Errors) == 0 || r.Errors[0].Code != want[i].code || r.Errors[0].Field != want[i].field) {
			t.Errorf("result %d errors %+v, want %s on %s", i, r.Errors, want[i].code, want[i].field)
		}
	}
	if w := a.Results[4].Warnings; len(w) != 1 || w[0].Code != schema.CodeUnknownField || w[0].Field != "nickname" {
		t.Errorf("result 4 warnings %+v, want unknown_field nickname", w)
	}
	if !bytes.Contains(w.Body.Bytes(), []byte(`"warnings":[]`)) {
		t.Errorf("a clean record should carry an empty warnings list: %s", w.Body)
	}
	if st := w.Header().Get("Server-Timing"); !strings.Contains(st, "validation;dur=") || !strings.Contains(st, "total;dur=") {
		t.Errorf("Server-Timing = %q", st)
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if len(fp.sent) != 2 || fp.sent[0]+fp.sent[1] != 4 {
		t.Errorf("sent %v, want records 0 and 4 only", fp.sent)
	}
}

func TestAllOrNothing(t *testing.T) {
	t.Parallel()
	srv, fp := newTestServer(t, 1<<20)
	body := `{"connection":"c1","all_or_nothing":true,"customers":[{"whatsapp":"8615266667780"},{"whatsapp":"x"}]}`
	w := do(t, srv, call{path: "/v1/customers", ctype: "application/json", token: token(t, nil, nil, nil), body: strings.NewReader(body)})
	var a importAnswer
	_ = json.Unmarshal(w.Body.Bytes(), &a)
	if w.Code != 200 || a.Failed != 2 || a.Results[0].Errors[0].Code != schema.CodeNotSent {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if len(fp.sent) != 0 {
		t.Errorf("sent %v with all_or_nothing and a failing record", fp.sent)
	}
}

func TestValidateSendsNothing(t *testing.T) {
	t.Parallel()
	srv, fp := newTestServer(t, 1<<20)
	w := do(t, srv, call{path: "/v1/customers/validate", ctype: "application/json", token: token(t, nil, nil, nil), body: strings.NewReader(oneRecord)})
	var a importAnswer
	_ = json.Unmarshal(w.Body.Bytes(), &a)
	if w.Code != 200 || a.Results[0].Status != answer.StatusValid || len(a.ProviderRequests) != 1 || a.ProviderRequests[0].Path != "/import" {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if len(fp.sent) != 0 {
		t.Errorf("validate sent %v", fp.sent)
	}
}

func TestConnectionsListsOnlyAllowed(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, 1<<20)
	w := do(t, srv, call{method: "GET", path: "/v1/connections", token: token(t, nil, nil, nil)})
	var got struct{ Connections []ConnectionInfo }
	_ = json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != 200 || len(got.Connections) != 1 || got.Connections[0].ID != "c1" || got.Connections[0].Capabilities.ImportPool {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// A clean batch is decoded in one pass; the answer is the same as decoding
// each record on its own.
func TestDecodeImportOnePassSameAnswer(t *testing.T) {
	t.Parallel()
	body := []byte(`{"connection":"c1","customers":[{"ref":"a","whatsapp":"+86 152 6666 7780","level":3,"tags":["VIP"]},{"ref":"b","whatsapp":"x"}]}`)
	req, decoded, err := DecodeImport(body)
	if err != nil || len(decoded) != 2 || len(req.Customers) != 2 || req.Connection != "c1" {
		t.Fatalf("fast path: %+v %v %v", req, decoded, err)
	}
	var raw ImportRequest
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	srv, _ := newTestServer(t, 1<<20)
	conn := srv.conns["c1"]
	op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	a1, err1 := srv.service.Import(context.Background(), conn, gateway.Request{Op: op, Input: gateway.InputDecoded, Decoded: decoded, ValidateOnly: true})
	a2, err2 := srv.service.Import(context.Background(), conn, gateway.Request{Op: op, Customers: raw.Customers, ValidateOnly: true})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	j1, _ := json.Marshal(a1)
	j2, _ := json.Marshal(a2)
	if string(j1) != string(j2) {
		t.Fatalf("one pass:\n%s\nrecord by record:\n%s", j1, j2)
	}
	// A record with an unknown key sends the batch down the record-by-record path.
	_, decoded, err = DecodeImport([]byte(`{"customers":[{"nickname":"x"}]}`))
	if err != nil || decoded != nil {
		t.Fatalf("slow path: %v %v", decoded, err)
	}
	if _, _, err := DecodeImport([]byte(`{"customerz":[]}`)); err == nil {
		t.Fatal("an unknown envelope key must be an error")
	}
}
