package contract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/internal/apptest"
)

// call is one request of the contract test and the status it must get.
type call struct {
	name        string
	method      string
	path        string
	body        string
	contentType string            // default application/json when body is set
	token       string            // "" sends none; "dev" the sandbox's token; else a token
	header      map[string]string // extra request headers
	offSpec     bool              // the request is deliberately outside the document
	want        int
	check       func(t *testing.T, h http.Header, body []byte)
}

func (g *gw) do(t *testing.T, c call) (http.Header, []byte) {
	t.Helper()
	return g.doAt(t, g.URL, c)
}

// doAt sends c to base (the gateway, or a proxy in front of it) and checks
// its answer.
func (g *gw) doAt(t *testing.T, base string, c call) (http.Header, []byte) {
	t.Helper()
	var body any
	var header []string
	if c.body != "" {
		body = c.body
		if c.contentType != "" {
			header = append(header, "Content-Type", c.contentType)
		}
	}
	tok := c.token
	if tok == "dev" {
		tok = g.Token
	}
	for k, v := range c.header {
		header = append(header, k, v)
	}
	if c.offSpec {
		header = append(header, offSpec, "1")
	}
	r := apptest.Do(t, c.method, base+c.path, tok, body, header...)
	if r.Status != c.want {
		t.Fatalf("%s %s: status %d, want %d: %.800s", c.method, c.path, r.Status, c.want, r.Body)
	}
	if r.Header.Get("X-Request-ID") == "" {
		t.Errorf("%s %s: no X-Request-ID", c.method, c.path)
	}
	if c.check != nil {
		c.check(t, r.Header, r.Body)
	}
	return r.Header, r.Body
}

// exampleBodies returns the request examples of an operation, by name.
func exampleBodies(t *testing.T, g *gw, opID string) map[string]string {
	t.Helper()
	for _, item := range g.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID != opID || op.RequestBody == nil {
				continue
			}
			out := map[string]string{}
			for name, ex := range op.RequestBody.Value.Content.Get("application/json").Examples {
				b, err := json.Marshal(ex.Value.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name] = string(b)
			}
			return out
		}
	}
	t.Fatalf("no request examples for %s", opID)
	return nil
}

// allStatus asserts every result of an import answer has the status want.
func allStatus(want string) func(t *testing.T, h http.Header, body []byte) {
	return func(t *testing.T, _ http.Header, body []byte) {
		t.Helper()
		var a struct {
			Total   int `json:"total"`
			Results []struct {
				Status string          `json:"status"`
				Errors json.RawMessage `json:"errors"`
			} `json:"results"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		if a.Total == 0 || len(a.Results) != a.Total {
			t.Fatalf("total %d, %d results", a.Total, len(a.Results))
		}
		for i, r := range a.Results {
			if r.Status != want {
				t.Errorf("record %d: %s, want %s: %s", i, r.Status, want, r.Errors)
			}
		}
	}
}

func problemType(typ string) func(t *testing.T, h http.Header, body []byte) {
	return func(t *testing.T, h http.Header, body []byte) {
		t.Helper()
		if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("Content-Type %q, want application/problem+json", ct)
		}
		var p struct {
			Type      string `json:"type"`
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal(body, &p)
		if !strings.HasSuffix(p.Type, "/"+typ) {
			t.Errorf("problem type %q, want …/%s", p.Type, typ)
		}
		if p.RequestID != h.Get("X-Request-ID") {
			t.Errorf("request_id %q is not X-Request-ID %q", p.RequestID, h.Get("X-Request-ID"))
		}
	}
}

// TestContract sends real requests for every documented operation to a
// running sandbox gateway; the harness validates each request and answer
// against openapi.yaml, and the test checks that every operation was
// answered with a documented success at least once.
func TestContract(t *testing.T) {
	g := startGateway(t, nil)
	// A loopback receiver for subscriptions.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()

	calls := contractCalls(t, g)
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { g.do(t, c) })
	}

	// Field configuration round trip: GET's ETag is a good If-Match.
	t.Run("field config round trip", func(t *testing.T) {
		h, body := g.do(t, call{method: "GET", path: "/v1/connections/sandbox-nxlink/field-config", token: "dev", want: 200})
		var v struct {
			Config json.RawMessage `json:"config"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		g.do(t, call{method: "PUT", path: "/v1/connections/sandbox-nxlink/field-config", token: "dev", want: 200,
			header: map[string]string{"If-Match": h.Get("ETag")}, body: string(v.Config)})
	})

	// The sandbox's changes came back as events.
	t.Run("events from the sandbox's webhooks", func(t *testing.T) {
		_, body := g.do(t, call{method: "GET", path: "/v1/events?connection=sandbox-wscrm&type=customer.updated,customer.followup_created", token: "dev", want: 200})
		for _, want := range []string{`"type":"customer.updated"`, `"type":"customer.followup_created"`, `"change":{"field":"address","custom":false,"from":"","to":"123123"}`} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("events lack %s: %.800s", want, body)
			}
		}
	})

	t.Run("subscription lifecycle", func(t *testing.T) {
		_, body := g.do(t, call{method: "POST", path: "/v1/subscriptions", token: "dev", want: 201,
			body: `{"url":"` + hook.URL + `/hook","types":["customer.updated"],"connections":["sandbox-wscrm"]}`})
		var sub struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(body, &sub); err != nil || sub.ID == "" || !strings.HasPrefix(sub.Secret, "whsec_") {
			t.Fatalf("created: %s (%v)", body, err)
		}
		g.do(t, call{method: "GET", path: "/v1/subscriptions/" + sub.ID + "/failures", token: "dev", want: 200})
		g.do(t, call{method: "POST", path: "/v1/subscriptions/" + sub.ID + "/failures/nope/redeliver", token: "dev", want: 404})
		g.do(t, call{method: "DELETE", path: "/v1/subscriptions/" + sub.ID, token: "dev", want: 204})
		g.do(t, call{method: "DELETE", path: "/v1/subscriptions/" + sub.ID, token: "dev", want: 404})
		g.do(t, call{method: "POST", path: "/v1/subscriptions", token: "dev", want: 422, body: `{"url":"ftp://x"}`})
	})

	t.Run("a refused delivery is listed and redelivered", func(t *testing.T) {
		refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
		defer refuse.Close()
		_, body := g.do(t, call{method: "POST", path: "/v1/subscriptions", token: "dev", want: 201,
			body: `{"url":"` + refuse.URL + `/hook","types":["customer.followup_created"]}`})
		var sub struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &sub); err != nil {
			t.Fatal(err)
		}
		g.do(t, call{method: "POST", path: "/v1/sandbox/sandbox-wscrm/changes", token: "dev", want: 202, body: `{"whatsapp":"8617633819542","followup":"refused"}`})
		var failures struct {
			Failures []struct {
				Event struct {
					ID string `json:"id"`
				} `json:"event"`
			} `json:"failures"`
		}
		// Bounded wait for delivery to give up (one 1 ms retry).
		for i := 0; i < 500 && len(failures.Failures) == 0; i++ {
			time.Sleep(20 * time.Millisecond)
			_, body = g.do(t, call{method: "GET", path: "/v1/subscriptions/" + sub.ID + "/failures", token: "dev", want: 200})
			if err := json.Unmarshal(body, &failures); err != nil {
				t.Fatal(err)
			}
		}
		if len(failures.Failures) != 1 {
			t.Fatalf("failures %s", body)
		}
		g.do(t, call{method: "POST", path: "/v1/subscriptions/" + sub.ID + "/failures/" + failures.Failures[0].Event.ID + "/redeliver", token: "dev", want: 202})
	})

	t.Run("import job lifecycle", func(t *testing.T) {
		_, body := g.do(t, call{method: "POST", path: "/v1/imports", token: "dev", want: 202,
			body: `{"connection":"sandbox-nxlink","customers":[{"ref":"j-1","name":"Li Heng","whatsapp":"+86 152 6666 7780"},{"ref":"j-2","name":"Bad","whatsapp":"12"}]}`})
		var job struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(body, &job); err != nil || job.ID == "" {
			t.Fatalf("created: %s (%v)", body, err)
		}
		// Read at least once: the 202 may already show the job completed.
		for i := 0; i == 0 || (i < 500 && job.Status != "completed"); i++ {
			if i > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			_, body = g.do(t, call{method: "GET", path: "/v1/imports/" + job.ID, token: "dev", want: 200})
			_ = json.Unmarshal(body, &job)
		}
		if job.Status != "completed" {
			t.Fatalf("job %s", body)
		}
		g.do(t, call{method: "GET", path: "/v1/imports?connection=sandbox-nxlink", token: "dev", want: 200})
		g.do(t, call{method: "GET", path: "/v1/imports/" + job.ID + "/results?limit=10", token: "dev", want: 200})
		g.do(t, call{method: "GET", path: "/v1/imports/" + job.ID + "/report?format=csv", token: "dev", want: 200})
		g.do(t, call{method: "POST", path: "/v1/imports/" + job.ID + "/retry", token: "dev", want: 422})
		g.do(t, call{method: "POST", path: "/v1/imports/" + job.ID + "/cancel", token: "dev", want: 409})
		// A job canceled while it runs: 20 000 rows are 200 chunks.
		many := make([]string, 20000)
		for i := range many {
			many[i] = fmt.Sprintf(`{"name":"C %d","whatsapp":"+86 152 6666 %04d"}`, i, i)
		}
		_, body = g.do(t, call{method: "POST", path: "/v1/imports", token: "dev", want: 202,
			body: `{"connection":"sandbox-nxlink","customers":[` + strings.Join(many, ",") + `]}`})
		_ = json.Unmarshal(body, &job)
		g.do(t, call{method: "POST", path: "/v1/imports/" + job.ID + "/cancel", token: "dev", want: 200})
	})

	// Every documented operation was answered, and with a success.
	seen := g.statuses()
	for _, item := range g.doc.Paths.Map() {
		for _, op := range item.Operations() {
			st := seen[op.OperationID]
			if len(st) == 0 {
				t.Errorf("operation %s was never called", op.OperationID)
				continue
			}
			// retryImport succeeds only after the provider failed some rows,
			// which the sandbox's simulators do not do on request here; its
			// success is tested in app (TestImportJobRetryUnknown).
			if op.OperationID == "retryImport" {
				continue
			}
			if !slices.ContainsFunc(st, func(s int) bool { return s >= 200 && s < 300 }) {
				t.Errorf("operation %s never succeeded: %v", op.OperationID, st)
			}
		}
	}
}

// contractCalls are the contract test's requests, each with the answer it
// must get, in the order they are sent (a lookup follows its import).
func contractCalls(t *testing.T, g *gw) []call {
	writeOnly := g.token(t, []string{auth.ScopeCustomersWrite})
	readOnly := g.token(t, []string{auth.ScopeCustomersRead})
	wscrmOnly := g.token(t, auth.Scopes, "sandbox-wscrm")
	notAdmin := g.token(t, []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead, auth.ScopeEventsRead})

	calls := []call{
		{name: "healthz", method: "GET", path: "/healthz", want: 200},
		{name: "readyz", method: "GET", path: "/readyz", want: 200},
		{name: "metrics", method: "GET", path: "/metrics", want: 200},
		{name: "openapi", method: "GET", path: "/openapi.yaml", want: 200, check: func(t *testing.T, _ http.Header, b []byte) {
			if !bytes.Equal(b, docBytes(t)) {
				t.Error("GET /openapi.yaml is not openapi.yaml")
			}
		}},
		{name: "connections", method: "GET", path: "/v1/connections", token: "dev", want: 200},
		{name: "connections without token", method: "GET", path: "/v1/connections", offSpec: true, want: 401, check: problemType("unauthorized")},
		{name: "connections with a bad token", method: "GET", path: "/v1/connections", token: "not.a.jwt", want: 401, check: problemType("unauthorized")},

		{name: "import: request id echoed", method: "POST", path: "/v1/customers", token: "dev", want: 200,
			header: map[string]string{"X-Request-ID": "contract-42", "Idempotency-Key": "contract-key-1"},
			body:   `{"connection":"sandbox-nxlink","customers":[{"ref":"r1","name":"Li Heng","whatsapp":"+86 152 6666 7780"}]}`,
			check: func(t *testing.T, h http.Header, b []byte) {
				if got := h.Get("X-Request-ID"); got != "contract-42" {
					t.Errorf("X-Request-ID %q", got)
				}
				if !bytes.Contains(b, []byte(`"request_id":"contract-42"`)) {
					t.Errorf("request_id not echoed: %s", b)
				}
			}},
		{name: "request lookup: the import's answer", method: "GET", path: "/v1/requests/contract-42", token: "dev", want: 200,
			check: func(t *testing.T, _ http.Header, b []byte) {
				if !bytes.Contains(b, []byte(`"request_id":"contract-42"`)) || !bytes.Contains(b, []byte(`"ref":"r1"`)) {
					t.Errorf("not the import's answer: %s", b)
				}
			}},
		{name: "request lookup: unknown", method: "GET", path: "/v1/requests/no-such-request", token: "dev", want: 404, check: problemType("not-found")},
		{name: "request lookup: scope missing", method: "GET", path: "/v1/requests/contract-42", token: writeOnly, want: 403},
		{name: "customer history", method: "GET", path: "/v1/customers/history?connection=sandbox-nxlink&whatsapp=%2B86%20152%206666%207780", token: "dev", want: 200,
			check: func(t *testing.T, _ http.Header, b []byte) {
				if !bytes.Contains(b, []byte(`"request_id":"contract-42"`)) {
					t.Errorf("the import is not in the history: %s", b)
				}
			}},
		{name: "customer history: no customer named", method: "GET", path: "/v1/customers/history?connection=sandbox-nxlink", token: "dev", want: 422, check: problemType("validation-failed")},
		{name: "customer history: scope missing", method: "GET", path: "/v1/customers/history?connection=sandbox-nxlink&ref=r1", token: writeOnly, want: 403},
		{name: "import: one bad record is a 200", method: "POST", path: "/v1/customers", token: "dev", want: 200,
			body:  `{"connection":"sandbox-nxlink","customers":[{"ref":"bad","name":"Li Heng","whatsapp":"+1-800-FLOWERS"}]}`,
			check: allStatus("failed")},
		{name: "import: malformed JSON", method: "POST", path: "/v1/customers", token: "dev", offSpec: true, want: 400,
			body: `{"connection":`, check: problemType("malformed-request")},
		{name: "import: unknown envelope key", method: "POST", path: "/v1/customers", token: "dev", offSpec: true, want: 400,
			body: `{"connection":"sandbox-nxlink","all_or_nothin":true,"customers":[{"name":"x","whatsapp":"8615266667780"}]}`, check: problemType("malformed-request")},
		{name: "import: wrong content type", method: "POST", path: "/v1/customers", token: "dev", offSpec: true, want: 415,
			body: `connection=sandbox-nxlink`, contentType: "text/plain", check: problemType("unsupported-media-type")},
		{name: "import: body too large", method: "POST", path: "/v1/customers", token: "dev", offSpec: true, want: 413,
			body: `{"connection":"sandbox-nxlink","customers":[{"remarks":"` + strings.Repeat("x", maxBody) + `"}]}`, check: problemType("body-too-large")},
		{name: "import: empty batch", method: "POST", path: "/v1/customers", token: "dev", offSpec: true, want: 422,
			body: `{"connection":"sandbox-nxlink","customers":[]}`, check: problemType("validation-failed")},
		{name: "import: mode WSCRM cannot honour", method: "POST", path: "/v1/customers", token: "dev", want: 422,
			body: `{"connection":"sandbox-wscrm","mode":"keep_existing","customers":[{"name":"x","owner":"kubrick101","whatsapp":"8615266667780"}]}`, check: problemType("not-supported")},
		{name: "import: no such connection", method: "POST", path: "/v1/customers", token: "dev", want: 404,
			body: `{"connection":"nope","customers":[{"name":"x"}]}`, check: problemType("not-found")},
		{name: "import: connection not allowed", method: "POST", path: "/v1/customers", token: wscrmOnly, want: 403,
			body: `{"connection":"sandbox-nxlink","customers":[{"name":"x"}]}`, check: problemType("forbidden")},
		{name: "import: scope missing", method: "POST", path: "/v1/customers", token: readOnly, want: 403,
			body: `{"connection":"sandbox-nxlink","customers":[{"name":"x"}]}`, check: problemType("forbidden")},
		{name: "validate: scope missing", method: "POST", path: "/v1/customers/validate", token: readOnly, want: 403,
			body: `{"connection":"sandbox-nxlink","customers":[{"name":"x"}]}`, check: problemType("forbidden")},
		{name: "import-pool: mode missing", method: "POST", path: "/v1/import-pool", token: writeOnly, want: 422,
			body: `{"connection":"sandbox-wscrm","customers":[{"name":"x"}]}`, check: problemType("validation-failed")},

		{name: "list customers", method: "GET", path: "/v1/customers?connection=sandbox-wscrm&agent=86187272722&limit=10", token: readOnly, want: 200},
		{name: "list customers: bad limit", method: "GET", path: "/v1/customers?connection=sandbox-wscrm&agent=86187272722&limit=0", token: readOnly, offSpec: true, want: 422},
		{name: "list customers: no agent", method: "GET", path: "/v1/customers?connection=sandbox-wscrm", token: readOnly, offSpec: true, want: 422},
		{name: "list customers: NXLink cannot", method: "GET", path: "/v1/customers?connection=sandbox-nxlink&agent=1", token: readOnly, want: 422, check: problemType("not-supported")},
		{name: "list customers: scope missing", method: "GET", path: "/v1/customers?connection=sandbox-wscrm&agent=1", token: writeOnly, want: 403},

		{name: "field config", method: "GET", path: "/v1/connections/sandbox-wscrm/field-config", token: readOnly, want: 200},
		{name: "field config: no such connection", method: "GET", path: "/v1/connections/nope/field-config", token: "dev", want: 404},
		{name: "field config: not allowed", method: "GET", path: "/v1/connections/sandbox-nxlink/field-config", token: wscrmOnly, want: 403},
		{name: "put field config: scope missing", method: "PUT", path: "/v1/connections/sandbox-nxlink/field-config", token: notAdmin, want: 403,
			body: `{"required":["name"]}`},
		{name: "put field config: stale If-Match", method: "PUT", path: "/v1/connections/sandbox-nxlink/field-config", token: "dev", want: 412,
			header: map[string]string{"If-Match": `"999"`}, body: `{"required":["name"]}`, check: problemType("precondition-failed")},
		{name: "put field config: invalid", method: "PUT", path: "/v1/connections/sandbox-nxlink/field-config", token: "dev", offSpec: true, want: 422,
			body: `{"custom_fields":[{"name":"x","type":"bogus"}]}`, check: problemType("validation-failed")},
		{name: "put field config: unknown key", method: "PUT", path: "/v1/connections/sandbox-nxlink/field-config", token: "dev", offSpec: true, want: 400,
			body: `{"requird":["name"]}`},

		{name: "webhook: the document's example fails verification", method: "POST", path: "/v1/webhooks/wscrm/sandbox-wscrm", want: 401,
			body: exampleBodies(t, g, "receiveWSCRMWebhook")["1-profile-update"], check: problemType("unauthorized")},
		{name: "webhook: the follow-up example fails verification", method: "POST", path: "/v1/webhooks/wscrm/sandbox-wscrm", want: 401,
			body: exampleBodies(t, g, "receiveWSCRMWebhook")["2-follow-up"], check: problemType("unauthorized")},
		{name: "webhook: not JSON", method: "POST", path: "/v1/webhooks/wscrm/sandbox-wscrm", offSpec: true, want: 400, body: `{"accessToken":`},
		{name: "webhook: no such connection", method: "POST", path: "/v1/webhooks/wscrm/nope", want: 404,
			body: exampleBodies(t, g, "receiveWSCRMWebhook")["1-profile-update"]},

		{name: "events", method: "GET", path: "/v1/events?limit=10", token: "dev", want: 200},
		{name: "events: bad limit", method: "GET", path: "/v1/events?limit=0", token: "dev", offSpec: true, want: 422},
		{name: "events: unknown type", method: "GET", path: "/v1/events?type=customer.deleted", token: "dev", want: 422},
		{name: "events: bad cursor", method: "GET", path: "/v1/events?after=not-a-cursor", token: "dev", want: 422},
		{name: "events: scope missing", method: "GET", path: "/v1/events", token: writeOnly, want: 403},

		{name: "subscriptions: malformed", method: "POST", path: "/v1/subscriptions", token: "dev", offSpec: true, want: 400, body: `{"url":`},
		{name: "subscriptions: scope missing", method: "GET", path: "/v1/subscriptions", token: notAdmin, want: 403},
		{name: "subscriptions: list", method: "GET", path: "/v1/subscriptions", token: "dev", want: 200},
		{name: "subscriptions: failures of none", method: "GET", path: "/v1/subscriptions/nope/failures", token: "dev", want: 404},
		{name: "subscriptions: redeliver none", method: "POST", path: "/v1/subscriptions/nope/failures/nope/redeliver", token: "dev", want: 404},
		{name: "subscriptions: delete none", method: "DELETE", path: "/v1/subscriptions/nope", token: "dev", want: 404},

		{name: "sandbox: bad change", method: "POST", path: "/v1/sandbox/sandbox-wscrm/changes", token: "dev", want: 400,
			body: `{"whatsapp":"8615601882491","field":"address","to":"x","followup":"both"}`},
		{name: "sandbox: unknown field", method: "POST", path: "/v1/sandbox/sandbox-wscrm/changes", token: "dev", want: 422,
			body: `{"whatsapp":"8615601882491","field":"Nonsense","to":"x"}`, check: problemType("validation-failed")},
		{name: "sandbox: not allowed", method: "POST", path: "/v1/sandbox/sandbox-nxlink/changes", token: wscrmOnly, want: 403,
			body: `{"whatsapp":"8615601882491","followup":"x"}`},
		{name: "sandbox: NXLink sends no webhooks", method: "POST", path: "/v1/sandbox/sandbox-nxlink/changes", token: "dev", want: 422,
			body: `{"whatsapp":"8615601882491","followup":"x"}`},
	}
	// The documents' examples run against the sandbox as they are.
	for _, op := range []struct{ id, path, status string }{
		{"importCustomers", "/v1/customers", "succeeded"},
		{"validateCustomers", "/v1/customers/validate", "valid"},
		{"importPool", "/v1/import-pool", "succeeded"},
	} {
		names := []string{}
		bodies := exampleBodies(t, g, op.id)
		for n := range bodies {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			calls = append(calls, call{name: op.id + " example " + n, method: "POST", path: op.path, token: writeOnly, body: bodies[n], want: 200, check: allStatus(op.status)})
		}
	}
	for _, n := range []string{"1-profile-update", "2-follow-up"} {
		calls = append(calls, call{name: "sandbox example " + n, method: "POST", path: "/v1/sandbox/sandbox-wscrm/changes", token: "dev",
			body: exampleBodies(t, g, "sandboxChange")[n], want: 202})
	}

	return calls
}
