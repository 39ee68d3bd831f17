package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"crmgate/api/answer"
	"crmgate/events"
	"crmgate/schema"
)

// post sends body over a real connection and returns the status and body.
func post(t *testing.T, base, path, tok, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: %d answered as %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, raw
}

const clean = `{"whatsapp":"8615266667780"}`

// A key twice, a key in another case and invalid UTF-8 in the envelope are a
// 400 naming the key, on every endpoint that takes an import body; nothing
// is sent.
func TestStrictEnvelope(t *testing.T) {
	t.Parallel()
	srv, fp := newTestServer(t, 1<<20)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok := token(t, nil, nil, nil)
	tests := []struct {
		name, body, key, says string
	}{
		{"customers twice", `{"connection":"c1","customers":[` + clean + `],"customers":[` + clean + `,` + clean + `]}`, "customers", "twice"},
		{"connection twice", `{"connection":"c2","connection":"c1","customers":[` + clean + `]}`, "connection", "twice"},
		{"Connection", `{"Connection":"c1","customers":[` + clean + `]}`, "Connection", "case-sensitive"},
		{"Customers", `{"connection":"c1","Customers":[` + clean + `]}`, "Customers", "case-sensitive"},
		{"ALL_OR_NOTHING", `{"connection":"c1","ALL_OR_NOTHING":true,"customers":[` + clean + `]}`, "ALL_OR_NOTHING", "case-sensitive"},
		{"invalid UTF-8 in a value", "{\"connection\":\"c1\",\"customers\":[{\"whatsapp\":\"8615266667780\",\"name\":\"Li \xff\"}]}", "", "not valid UTF-8 (at byte 71)"},
		{"invalid UTF-8 in a key", "{\"connection\":\"c1\",\"customers\":[{\"whatsapp\":\"8615266667780\",\"n\xc3\":\"x\"}]}", "", "not valid UTF-8"},
		{"lone surrogate escape", `{"connection":"c1","customers":[{"whatsapp":"8615266667780","name":"Li \ud800"}]}`, "", "surrogate"},
		{"raw NUL", "{\"connection\":\"c1\",\"customers\":[{\"whatsapp\":\"8615266667780\",\"name\":\"Li\x00\"}]}", "", "invalid character"},
		{"customers not an array", `{"connection":"c1","customers":{"whatsapp":"8615266667780"}}`, "", "customers must be a JSON array"},
		{"mode a number", `{"connection":"c1","mode":1,"customers":[` + clean + `]}`, "", "mode must be a JSON string"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/customers", "/v1/customers/validate", "/v1/import-pool"} {
			status, raw := post(t, hs.URL, path, tok, tt.body)
			var p Problem
			_ = json.Unmarshal(raw, &p)
			if status != http.StatusBadRequest || p.Type != ProblemMalformed || !strings.Contains(p.Detail, tt.says) {
				t.Errorf("%s %s: %d %s, want 400 saying %q", tt.name, path, status, raw, tt.says)
				continue
			}
			if tt.key != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.key || !strings.Contains(p.Detail, `"`+tt.key+`"`)) {
				t.Errorf("%s %s: %s, want the key %q named", tt.name, path, raw, tt.key)
			}
		}
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if len(fp.sent) != 0 {
		t.Errorf("sent %v", fp.sent)
	}
}

// Within a record, a key twice, a key in another case and a NUL character
// fail that record with invalid_value naming the key; the rest of the batch
// goes on.
func TestStrictRecords(t *testing.T) {
	t.Parallel()
	srv, fp := newTestServer(t, 1<<20)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok := token(t, nil, nil, nil)
	tests := []struct {
		name, record, field string
	}{
		{"whatsapp twice", `{"whatsapp":"8615266667781","whatsapp":"8615266667782"}`, "whatsapp"},
		{"WhatsApp", `{"WhatsApp":"8615266667781"}`, "WhatsApp"},
		{"Name beside whatsapp", `{"whatsapp":"8615266667781","Name":"Li Heng"}`, "Name"},
		{"custom field twice", `{"whatsapp":"8615266667781","custom_fields":{"Faction":"a","Faction":"b"}}`, "custom_fields.Faction"},
		{"NUL in name", `{"whatsapp":"8615266667781","name":"Li\u0000Heng"}`, "name"},
		{"NUL in a tag", `{"whatsapp":"8615266667781","tags":["VIP","x\u0000"]}`, "tags"},
		{"NUL in a custom field", `{"whatsapp":"8615266667781","custom_fields":{"Faction":"\u0000"}}`, "custom_fields.Faction"},
		{"NUL with an unknown key", `{"whatsapp":"8615266667781","nickname":"x","remarks":"\u0000"}`, "remarks"},
		{"level a string", `{"whatsapp":"8615266667781","level":"3"}`, "level"},
		{"not an object", `"8615266667781"`, ""},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v1/customers", "/v1/customers/validate"} {
			status, raw := post(t, hs.URL, path, tok, `{"connection":"c1","customers":[`+clean+`,`+tt.record+`]}`)
			var a importAnswer
			_ = json.Unmarshal(raw, &a)
			ok := answer.StatusSucceeded
			if strings.HasSuffix(path, "validate") {
				ok = answer.StatusValid
			}
			if status != 200 || a.Total != 2 || len(a.Results) != 2 || a.Results[0].Status != ok {
				t.Errorf("%s %s: %d %s", tt.name, path, status, raw)
				continue
			}
			r := a.Results[1]
			if r.Status != answer.StatusFailed || len(r.Errors) != 1 || r.Errors[0].Code != schema.CodeInvalidValue || r.Errors[0].Field != tt.field {
				t.Errorf("%s %s: result %+v, want invalid_value on %q", tt.name, path, r, tt.field)
			}
		}
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	for _, i := range fp.sent {
		if i != 0 {
			t.Errorf("record %d was sent", i)
		}
	}
	if len(fp.sent) != len(tests) {
		t.Errorf("sent %v, want the clean record of each batch", fp.sent)
	}

	// What only looks like a NUL (an escaped backslash, then u0000) is text.
	status, raw := post(t, hs.URL, "/v1/customers/validate", tok, `{"connection":"c1","customers":[{"whatsapp":"8615266667780","name":"a\\u0000"}]}`)
	if status != 200 || !strings.Contains(string(raw), `"status":"valid"`) {
		t.Errorf("escaped backslash: %d %s", status, raw)
	}
}

// The other JSON bodies are decoded as strictly.
func TestStrictOtherBodies(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) {
		subs, _ := events.NewMemorySubscriptions(events.NewMemoryStore(events.Options{}))
		o.Extra = append(o.Extra, EventRoutes(EventsOptions{Store: events.NewMemoryStore(events.Options{}), Subscriptions: subs}))
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok := token(t, func(c jwt.MapClaims) { c["scope"] = "admin" }, nil, nil)
	for body, key := range map[string]string{
		`{"url":"http://10.0.0.1/hook","url":"http://10.0.0.2/hook","types":["customer.updated"]}`: "url",
		`{"URL":"http://10.0.0.1/hook","types":["customer.updated"]}`:                              "URL",
	} {
		status, raw := post(t, hs.URL, "/v1/subscriptions", tok, body)
		var p Problem
		_ = json.Unmarshal(raw, &p)
		if status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != key {
			t.Errorf("%s: %d %s, want 400 naming %q", body, status, raw, key)
		}
	}
}

// BenchmarkDecodeImport10k decodes a clean 10 000-record batch, the one-pass
// path every clean import takes.
func BenchmarkDecodeImport10k(b *testing.B) {
	cs := make([]schema.Customer, 10000)
	for i := range cs {
		level := 1 + i%5
		cs[i] = schema.Customer{Ref: "crm-" + strings.Repeat("7", i%7+1), Name: "Li Heng", FirstName: "Heng", LastName: "Li",
			Gender: "male", Birthday: "1990-04-12", WhatsApp: "8615266667780", Email: "liheng@example.com", Country: "CN",
			Address: "No. 8 Chang'an Avenue, Beijing", Remarks: "met at the spring fair", Tags: []string{"VIP", "Soldier"}, Level: &level,
			CustomFields: map[string]any{"Faction": "Royal Family", "Level": json.Number("3"), "Joined": "2021-06-01"}}
	}
	body, _ := json.Marshal(map[string]any{"connection": "c1", "mode": "merge", "customers": cs})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, decoded, err := DecodeImport(body); err != nil || len(decoded) != len(cs) {
			b.Fatal(err)
		}
	}
}

// TestRecordsEstimate: the capacity counts each record once and no member
// object, and stays within twice the body's size in records.
func TestRecordsEstimate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{"connection":"c","customers":[]}`, 0},
		{`{"customers":[{"ref":"a","custom_fields":{"x":{"y":1}}},{"ref":"b"}]}`, 0}, // capped: too short
	} {
		if got := recordsEstimate([]byte(tc.body)); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.body, got, tc.want)
		}
	}
	rec := `{"ref":"a","name":"` + strings.Repeat("n", 2000) + `","custom_fields":{"x":{"y":[{"z":1}]}}}`
	body := `{"customers":[` + rec + ",\n " + rec + " , " + rec + `]}`
	if got := recordsEstimate([]byte(body)); got != 6 { // three records, each with an object in an array
		t.Errorf("three records: %d, want 6", got)
	}
}
