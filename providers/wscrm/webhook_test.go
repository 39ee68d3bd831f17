package wscrm

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden times are in Asia/Shanghai wherever the tests run

	"crmgate/events"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/secret"
)

// The provider document's two example bodies carry these.
const (
	docProfileToken  = "83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344"
	docProfileTenant = 500975
	docProfileTS     = 1667293135274
	docFollowToken   = "e6e18763d8d5a756d45c01486d7ad6742152ac"
	docFollowTenant  = 82
	docFollowTS      = 1667295870936
	testConn         = "acme-wa"
)

// staticConfig is a connection verifying static tokens, in Shanghai time.
func staticConfig(tenant int64, token string) *Config {
	return &Config{
		TenantID:         tenant,
		ProviderTimeZone: "Asia/Shanghai",
		Webhook:          Webhook{Mode: WebhookStatic, Token: secret.Value(token)},
	}
}

func TestWebhookDocumentExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, golden string
		cfg                *Config
		now                time.Time
	}{
		{
			name:   "profile update",
			body:   "webhook_profile_update.json",
			golden: "webhook_profile_update_events.json",
			cfg:    staticConfig(docProfileTenant, docProfileToken),
			now:    time.UnixMilli(docProfileTS + 2000).UTC(),
		},
		{
			name:   "follow-up with the document's missing brace and duplicate item",
			body:   "webhook_follow_up.json",
			golden: "webhook_follow_up_events.json",
			cfg:    staticConfig(docFollowTenant, docFollowToken),
			now:    time.UnixMilli(docFollowTS + 1000).UTC(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, err := newWebhookReceiver(testConn, tt.cfg).receive(nil, testutil.ReadFile(t, "testdata", tt.body), tt.now)
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			got, err := json.Marshal(evs)
			if err != nil {
				t.Fatal(err)
			}
			wiretest.SameJSON(t, got, testutil.ReadFile(t, "testdata", tt.golden))
		})
	}
}

func TestWebhookAnswer(t *testing.T) {
	t.Parallel()
	var a struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	}
	if err := json.Unmarshal(webhookAnswer, &a); err != nil {
		t.Fatal(err)
	}
	if a.Code != 200 || a.Message != "Success" || a.Data != "" {
		t.Errorf("answer = %s", webhookAnswer)
	}
}

// docProfileBody returns the document's profile-update example with some
// top-level keys replaced (a nil value deletes the key).
func docProfileBody(t *testing.T, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWebhookRejections(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(docProfileTS)
	good := staticConfig(docProfileTenant, docProfileToken)
	tests := []struct {
		name    string
		cfg     *Config
		body    []byte
		now     time.Time
		want    error
		message string // a part of the error message
	}{
		{"bad token", good, docProfileBody(t, map[string]any{"accessToken": "not-the-token"}), now,
			gateway.ErrWebhookUnauthorized, "accessToken"},
		{"token of other length prefix", good, docProfileBody(t, map[string]any{"accessToken": docProfileToken[:10]}), now,
			gateway.ErrWebhookUnauthorized, "accessToken"},
		{"wrong tenantId", good, docProfileBody(t, map[string]any{"tenantId": 500976}), now,
			gateway.ErrWebhookUnauthorized, "tenantId"},
		{"timestamp 6 min old", good, testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), now.Add(6 * time.Minute),
			gateway.ErrWebhookUnauthorized, "timestamp"},
		{"timestamp 6 min in the future", good, testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), now.Add(-6 * time.Minute),
			gateway.ErrWebhookUnauthorized, "timestamp"},
		{"tolerance configured shorter", &Config{TenantID: docProfileTenant, Webhook: Webhook{Token: docProfileToken, Tolerance: time.Minute}},
			testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), now.Add(90 * time.Second),
			gateway.ErrWebhookUnauthorized, "timestamp"},
		{"empty token configured", staticConfig(docProfileTenant, ""), docProfileBody(t, map[string]any{"accessToken": ""}), now,
			gateway.ErrWebhookUnauthorized, "no webhook token"},
		{"hmac without secret", &Config{TenantID: docProfileTenant, Webhook: Webhook{Mode: WebhookHMAC}},
			testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), now, gateway.ErrWebhookUnauthorized, "no webhook secret"},
		{"not JSON", good, []byte(`{"accessToken": "x", `), now, gateway.ErrWebhookMalformed, ""},
		{"JSON array", good, []byte(`[]`), now, gateway.ErrWebhookMalformed, ""},
		{"no accessToken", good, docProfileBody(t, map[string]any{"accessToken": nil}), now,
			gateway.ErrWebhookMalformed, "accessToken"},
		{"no timestamp", good, docProfileBody(t, map[string]any{"timestamp": nil}), now,
			gateway.ErrWebhookMalformed, "timestamp"},
		{"timestamp not a number", good, docProfileBody(t, map[string]any{"timestamp": "soon"}), now,
			gateway.ErrWebhookMalformed, "timestamp"},
		{"no data", good, docProfileBody(t, map[string]any{"data": nil}), now,
			gateway.ErrWebhookMalformed, "data"},
		{"data not a list", good, docProfileBody(t, map[string]any{"data": map[string]any{}}), now,
			gateway.ErrWebhookMalformed, ""},
		{"item of neither shape", good, docProfileBody(t, map[string]any{"data": []any{map[string]any{"friendWhatsId": "1"}}}), now,
			gateway.ErrWebhookMalformed, "data[0]"},
		{"item of unknown type", good, docProfileBody(t, map[string]any{"data": []any{map[string]any{"id": "x", "type": 3}}}), now,
			gateway.ErrWebhookMalformed, "data[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, err := newWebhookReceiver(testConn, tt.cfg).receive(nil, tt.body, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if evs != nil {
				t.Errorf("events = %v, want none", evs)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to mention %q", err, tt.message)
			}
			if strings.Contains(err.Error(), docProfileToken) || strings.Contains(err.Error(), "not-the-token") {
				t.Errorf("err %q echoes a token", err)
			}
		})
	}
}

func TestWebhookAcceptsEdgeOfTolerance(t *testing.T) {
	t.Parallel()
	r := newWebhookReceiver(testConn, staticConfig(docProfileTenant, docProfileToken))
	for _, d := range []time.Duration{-5 * time.Minute, 5 * time.Minute} {
		evs, err := r.receive(nil, testutil.ReadFile(t, "testdata", "webhook_profile_update.json"), time.UnixMilli(docProfileTS).Add(d))
		if err != nil || len(evs) != 3 {
			t.Errorf("now %+v from timestamp: %d events, err %v; want 3, nil", d, len(evs), err)
		}
	}
}

func TestWebhookHMAC(t *testing.T) {
	t.Parallel()
	const secret = "a-webhook-secret-of-the-connection"
	cfg := &Config{TenantID: docProfileTenant, Webhook: Webhook{Mode: WebhookHMAC, Secret: secret}}
	// Computed independently: printf '500975.1667293135274' | openssl dgst -sha256 -hmac "$secret"
	const want = "5091b274f4033af98f24a6af03a57da653615526bdac68096a5980bef337e7f6"
	sig := webhookHMAC(secret, docProfileTenant, docProfileTS)
	if sig != want {
		t.Fatalf("webhookHMAC = %s, want %s", sig, want)
	}
	now := time.UnixMilli(docProfileTS)
	tests := []struct {
		name string
		set  map[string]any
		ok   bool
	}{
		{"signed", map[string]any{"accessToken": sig}, true},
		{"upper-case hex", map[string]any{"accessToken": strings.ToUpper(sig)}, false},
		{"other secret", map[string]any{"accessToken": webhookHMAC("other", docProfileTenant, docProfileTS)}, false},
		{"timestamp changed after signing", map[string]any{"accessToken": sig, "timestamp": docProfileTS + 1}, false},
		{"static token in hmac mode", map[string]any{"accessToken": docProfileToken}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, err := newWebhookReceiver(testConn, cfg).receive(nil, docProfileBody(t, tt.set), now)
			if tt.ok {
				if err != nil || len(evs) != 3 {
					t.Fatalf("got %d events, err %v; want 3, nil", len(evs), err)
				}
				return
			}
			if !errors.Is(err, gateway.ErrWebhookUnauthorized) {
				t.Fatalf("err = %v, want ErrWebhookUnauthorized", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("err %q echoes the secret", err)
			}
		})
	}
}

// followBody returns a follow-up webhook body signed with the document's token.
func followBody(t *testing.T, ts int64, items ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"accessToken": docFollowToken, "callBackUrl": "", "tenantId": docFollowTenant,
		"timestamp": ts, "data": items,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func followItemOf(tenant int, text string) map[string]any {
	return map[string]any{
		"friendWhatsId": "8617633819542", "userId": 1221, "tenantId": tenant,
		"follow": `{"data":{"text":"` + text + `","url":[]}}`, "username": "gavin",
	}
}

func TestWebhookDerivedIDs(t *testing.T) {
	t.Parallel()
	cfg := staticConfig(docFollowTenant, docFollowToken)
	now := time.UnixMilli(docFollowTS)
	ids := func(conn string, body []byte) []string {
		t.Helper()
		evs, err := newWebhookReceiver(conn, cfg).receive(nil, body, now)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		var out []string
		for _, e := range evs {
			if len(e.ID) != 32 {
				t.Errorf("id %q is not 32 hex digits", e.ID)
			}
			out = append(out, e.ID)
		}
		return out
	}
	doc := testutil.ReadFile(t, "testdata", "webhook_follow_up.json")
	first, again := ids(testConn, doc), ids(testConn, doc)
	if len(first) != 1 || !reflect.DeepEqual(first, again) {
		t.Fatalf("the document's body gave ids %v then %v; want one id, twice the same", first, again)
	}
	// The same item re-encoded, with another item tenantId: the same follow-up.
	redelivered := followItemOf(7, "")
	redelivered["follow"] = `{"data":{"text":"Beautiful China","url":[]}` // the document's, brace missing
	if got := ids(testConn, followBody(t, docFollowTS, redelivered)); !reflect.DeepEqual(got, first) {
		t.Errorf("same content, other item tenantId and key order: ids %v, want %v", got, first)
	}
	distinct := map[string][]byte{
		"other text":      followBody(t, docFollowTS, followItemOf(22, "Ugly China")),
		"other timestamp": followBody(t, docFollowTS+1, followItemOf(22, "Beautiful China")),
	}
	for name, body := range distinct {
		if got := ids(testConn, body); len(got) != 1 || got[0] == first[0] {
			t.Errorf("%s: ids %v, want one id other than %s", name, got, first[0])
		}
	}
	if got := ids("other-conn", doc); got[0] == first[0] {
		t.Errorf("other connection: id %s, want another", got[0])
	}
	two := ids(testConn, followBody(t, docFollowTS, followItemOf(22, "one"), followItemOf(22, "two")))
	if len(two) != 2 || two[0] == two[1] {
		t.Errorf("two different follow-ups: ids %v, want two distinct", two)
	}
}

// profileUpdate returns a one-item profile-update body signed with the
// document's token; item's keys override the document's first item.
func profileUpdate(t *testing.T, item map[string]any) []byte {
	t.Helper()
	it := map[string]any{
		"id": "a0cb1ad15ed24e618b4b12d9cdff1ad4", "type": 1, "userName": "Zhang San",
		"friendWhatsId": "8615601882491", "field": "Address", "fieldType": 0, "fieldConfig": 1,
		"sourceValue": "", "targetValue": "123123", "updateAt": "2022-09-29 20:34:58",
	}
	for k, v := range item {
		if v == nil {
			delete(it, k)
		} else {
			it[k] = v
		}
	}
	return docProfileBody(t, map[string]any{"data": []any{it}})
}

func TestWebhookChanges(t *testing.T) {
	t.Parallel()
	ext := func(config int, from, to string) map[string]any {
		return map[string]any{"field": "ext-Field", "fieldType": 1, "fieldConfig": config, "sourceValue": from, "targetValue": to}
	}
	basic := func(field, from, to string) map[string]any {
		return map[string]any{"field": field, "sourceValue": from, "targetValue": to}
	}
	tests := []struct {
		name string
		item map[string]any
		want events.Change
	}{
		{"name", basic("Name", "Xiaoming", "Xiaowang"), events.Change{Field: "name", From: "Xiaoming", To: "Xiaowang"}},
		{"gender UNKOWNN", basic("Gender", "FEMALE", "UNKOWNN"), events.Change{Field: "gender", From: "female", To: "unknown"}},
		{"gender UNKNOWN", basic("Gender", "", "UNKNOWN"), events.Change{Field: "gender", From: "", To: "unknown"}},
		{"DOB", basic("DOB", "2022-12-01", "2022-12-02"), events.Change{Field: "birthday", From: "2022-12-01", To: "2022-12-02"}},
		{"DOB with slashes", basic("DOB", "", "2022/12/02"), events.Change{Field: "birthday", From: "", To: "2022-12-02"}},
		{"email", basic("Email", "123@qq.com", "123@163.com"), events.Change{Field: "email", From: "123@qq.com", To: "123@163.com"}},
		{"position", basic("Position", "Operations", "Sales"), events.Change{Field: "profession", From: "Operations", To: "Sales"}},
		{"income", basic("Income", "10k", "20k"), events.Change{Field: "income", From: "10k", To: "20k"}},
		{"description", basic("Description", "1\n2\n3", "1\n2\n3\n4"), events.Change{Field: "remarks", From: "1\n2\n3", To: "1\n2\n3\n4"}},
		{"from", basic("From", "Default", "Self-developed"), events.Change{Field: "source", From: "Default", To: "Self-developed"}},
		{"state", basic("State", "New customer", "Requirement match"), events.Change{Field: "stage", From: "New customer", To: "Requirement match"}},
		{"language", basic("Language", "auto", "am"), events.Change{Field: "language", From: "auto", To: "am"}},
		{"tags bracketed", basic("Tags", "[Tag 1]", "[Tag 1,Tag 2]"),
			events.Change{Field: "tags", From: []string{"Tag 1"}, To: []string{"Tag 1", "Tag 2"}}},
		{"tags empty", basic("Tags", "[]", ""), events.Change{Field: "tags", From: []string{}, To: []string{}}},
		{"tags JSON string array", basic("Tags", `["a, b"]`, `["x","y"]`),
			events.Change{Field: "tags", From: []string{"a, b"}, To: []string{"x", "y"}}},
		{"tags as a JSON array value", map[string]any{"field": "Tags", "sourceValue": nil, "targetValue": []string{"VIP", "Soldier"}},
			events.Change{Field: "tags", From: []string{}, To: []string{"VIP", "Soldier"}}},
		{"unknown basic field kept", basic("Nickname", "a", "b"), events.Change{Field: "nickname", From: "a", To: "b"}},
		{"extension multi-select", ext(4, "[Multi-select 1]", "[Multi-select 1,Multi-select 2]"),
			events.Change{Field: "ext-Field", Custom: true, From: []string{"Multi-select 1"}, To: []string{"Multi-select 1", "Multi-select 2"}}},
		{"extension attachment", ext(8, "", "http://123.img,http://456.img"),
			events.Change{Field: "ext-Field", Custom: true, From: []string{}, To: []string{"http://123.img", "http://456.img"}}},
		{"extension number kept a string", ext(5, "1", "2.50"), events.Change{Field: "ext-Field", Custom: true, From: "1", To: "2.50"}},
		{"extension number sent as a number", map[string]any{"field": "ext-N", "fieldType": 1, "fieldConfig": 5, "sourceValue": 1, "targetValue": 2.5},
			events.Change{Field: "ext-N", Custom: true, From: "1", To: "2.5"}},
		{"extension time", ext(7, "17:26:59", "17:27:35"), events.Change{Field: "ext-Field", Custom: true, From: "17:26:59", To: "17:27:35"}},
		{"extension named like a basic field", map[string]any{"field": "Name", "fieldType": 1, "fieldConfig": 1, "targetValue": "x"},
			events.Change{Field: "Name", Custom: true, From: "", To: "x"}},
	}
	r := newWebhookReceiver(testConn, staticConfig(docProfileTenant, docProfileToken))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs, err := r.receive(nil, profileUpdate(t, tt.item), time.UnixMilli(docProfileTS))
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			if len(evs) != 1 || evs[0].Type != events.TypeCustomerUpdated || evs[0].Change == nil {
				t.Fatalf("events = %+v, want one customer.updated", evs)
			}
			if !reflect.DeepEqual(*evs[0].Change, tt.want) {
				t.Errorf("change = %#v, want %#v", *evs[0].Change, tt.want)
			}
		})
	}
}

func TestWebhookProfileItemFallbacks(t *testing.T) {
	t.Parallel()
	r := newWebhookReceiver(testConn, staticConfig(docProfileTenant, docProfileToken))
	now := time.UnixMilli(docProfileTS)
	body := profileUpdate(t, map[string]any{"id": nil, "updateAt": "yesterday"})
	a, err := r.receive(nil, body, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.receive(nil, body, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(a[0].ID) != 32 || a[0].ID != b[0].ID {
		t.Errorf("ids of an item without id: %q, %q; want one derived 32-hex id", a[0].ID, b[0].ID)
	}
	if want := time.UnixMilli(docProfileTS); !a[0].OccurredAt.Equal(want) {
		t.Errorf("occurred_at with unreadable updateAt = %v, want the body's timestamp %v", a[0].OccurredAt, want)
	}
	// Without provider_time_zone, updateAt is UTC.
	utc, err := newWebhookReceiver(testConn, &Config{TenantID: docProfileTenant, Webhook: Webhook{Token: docProfileToken}}).
		receive(nil, profileUpdate(t, nil), now)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := utc[0].OccurredAt.MarshalText(); string(got) != "2022-09-29T20:34:58Z" {
		t.Errorf("occurred_at in UTC = %s", got)
	}
}

func TestParseFollow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want events.Followup
	}{
		{`{"data":{"text":"Hello","url":[]},"dataTypeMap":{"writeFollow":"Write follow-up"}}`,
			events.Followup{Text: "Hello", Attachments: []string{}}},
		{`{"data":{"text":"Beautiful China","url":[]}`, events.Followup{Text: "Beautiful China", Attachments: []string{}}},
		{`{"data":{"text":"see","url":["http://1.img","http://2.img"]}}`,
			events.Followup{Text: "see", Attachments: []string{"http://1.img", "http://2.img"}}},
		{`just words`, events.Followup{Text: "just words", Attachments: []string{}, Raw: true}},
		{`{"other":1}`, events.Followup{Text: `{"other":1}`, Attachments: []string{}, Raw: true}},
		{``, events.Followup{Text: "", Attachments: []string{}, Raw: true}},
	}
	for _, tt := range tests {
		if got := parseFollow(tt.in); !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("parseFollow(%q) = %#v, want %#v", tt.in, *got, tt.want)
		}
	}
}
