package wscrmsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/events"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/providers/wscrm"
	"crmgate/sandbox"
	"crmgate/secret"
)

// The provider document's two example bodies carry these.
const (
	docProfileToken  = "83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344"
	docProfileTenant = 500975
	docFollowToken   = "e6e18763d8d5a756d45c01486d7ad6742152ac"
	docFollowTenant  = 82
	testConn         = "acme-wa"
)

// shanghai is the provider time zone of the tests' connections.
var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// hookPair is a connection's webhook verification and the sender whose
// webhooks it accepts.
type hookPair struct {
	conn *wscrm.Config
	send SenderConfig
}

// staticPair verifies static tokens, in Shanghai time.
func staticPair(tenant int64, token string) hookPair {
	return hookPair{
		conn: &wscrm.Config{TenantID: tenant, ProviderTimeZone: "Asia/Shanghai",
			Webhook: wscrm.Webhook{Mode: wscrm.WebhookStatic, Token: secret.Value(token)}},
		send: SenderConfig{TenantID: tenant, Token: token, Location: shanghai},
	}
}

// hmacPair verifies HMAC signatures, in Shanghai time.
func hmacPair(tenant int64, key string) hookPair {
	return hookPair{
		conn: &wscrm.Config{TenantID: tenant, ProviderTimeZone: "Asia/Shanghai",
			Webhook: wscrm.Webhook{Mode: wscrm.WebhookHMAC, Secret: secret.Value(key)}},
		send: SenderConfig{TenantID: tenant, HMACSecret: key, Location: shanghai},
	}
}

// fixedSender returns a sender with a fixed clock and item id.
func fixedSender(cfg SenderConfig, target string) *WebhookSender {
	s := NewWebhookSender(cfg, target, nil)
	s.now = func() time.Time { return time.Date(2022, 9, 29, 12, 34, 58, 0, time.UTC) }
	s.newID = func() string { return "a0cb1ad15ed24e618b4b12d9cdff1ad4" }
	return s
}

func TestWebhookSenderBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, change, golden string
		cfg                  SenderConfig
	}{
		{"profile update", `{"whatsapp": "+86 156 0188 2491", "field": "address", "to": "123123", "agent": "Zhang San"}`,
			"webhook_sent_profile_update.json", staticPair(docProfileTenant, docProfileToken).send},
		{"follow-up", `{"whatsapp": "8617633819542", "followup": "Beautiful China", "agent": "gavin"}`,
			"webhook_sent_follow_up.json", staticPair(docFollowTenant, docFollowToken).send},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := fixedSender(tt.cfg, "http://127.0.0.1:1/").build(json.RawMessage(tt.change), nil)
			if err != nil {
				t.Fatal(err)
			}
			wiretest.SameJSON(t, got, testutil.ReadFile(t, "testdata", tt.golden))
		})
	}
}

// testRules are a connection's custom fields for the sender's tests.
var testRules = fieldconfig.MustCompile(fieldconfig.Config{CustomFields: []fieldconfig.CustomField{
	{Name: "Hobbies", Type: fieldconfig.TypeMultiSelect, Options: []string{"Go", "Tea"}},
	{Name: "Files", Type: fieldconfig.TypeAttachment},
	{Name: "Score", Type: fieldconfig.TypeNumber},
	{Name: "Joined", Type: fieldconfig.TypeDate, ProviderKey: "ext-Joined"},
}})

// captureGateway is an httptest peer playing the gateway's webhook endpoint:
// it runs the adapter's receiver of cfg and answers as the gateway does.
type captureGateway struct {
	mu     sync.Mutex
	events []events.Event
	bodies [][]byte
}

func (g *captureGateway) serve(t *testing.T, cfg *wscrm.Config) *httptest.Server {
	t.Helper()
	a, err := wscrm.New(gateway.Common{ID: testConn, Provider: wscrm.Name, BaseURL: "http://127.0.0.1:1"}, cfg, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		evs, err := a.ReceiveWebhook(req.Header, body, time.Now())
		g.mu.Lock()
		g.bodies = append(g.bodies, body)
		g.events = append(g.events, evs...)
		g.mu.Unlock()
		switch {
		case errors.Is(err, gateway.ErrWebhookUnauthorized):
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		case req.Header.Get("Content-Type") != "application/json":
			http.Error(w, "content type", http.StatusUnsupportedMediaType)
		default:
			w.Write(a.WebhookAnswer())
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// capturingSender is a sender of a static-token connection whose webhooks
// go to a captureGateway.
func capturingSender(t *testing.T) (*captureGateway, *WebhookSender) {
	t.Helper()
	g := &captureGateway{}
	pair := staticPair(docProfileTenant, "sandbox-token")
	srv := g.serve(t, pair.conn)
	return g, NewWebhookSender(pair.send, srv.URL, srv.Client())
}

func TestWebhookSenderRoundTrip(t *testing.T) {
	t.Parallel()
	pairs := map[string]hookPair{
		"static": staticPair(docProfileTenant, "sandbox-token"),
		"hmac":   hmacPair(docProfileTenant, "s3cret"),
	}
	tests := []struct {
		name, change string
		want         events.Event // ID, ReceivedAt and OccurredAt not compared
	}{
		{"address", `{"whatsapp": "8615601882491", "field": "address", "to": "123123"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "address", From: "", To: "123123"}}},
		{"WSCRM's label Address", `{"whatsapp": "8615601882491", "field": "Address", "to": "123123"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "address", From: "", To: "123123"}}},
		{"WSCRM's label DOB", `{"whatsapp": "8615601882491", "field": "DOB", "to": "1990-04-01"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "birthday", From: "", To: "1990-04-01"}}},
		{"custom date under its WSCRM key", `{"whatsapp": "8615601882491", "field": "Joined", "to": "2024-01-02"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "ext-Joined", Custom: true, From: "", To: "2024-01-02"}}},
		{"gender", `{"whatsapp": "8615601882491", "field": "gender", "from": "male", "to": "unknown", "agent": "Li"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: "Li",
				Change: &events.Change{Field: "gender", From: "male", To: "unknown"}}},
		{"birthday", `{"whatsapp": "8615601882491", "field": "birthday", "to": "1990-04-01"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "birthday", From: "", To: "1990-04-01"}}},
		{"tags", `{"whatsapp": "8615601882491", "field": "tags", "to": ["VIP", "Soldier"]}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "tags", From: []string{}, To: []string{"VIP", "Soldier"}}}},
		{"remarks", `{"whatsapp": "8615601882491", "field": "remarks", "to": "1\n2"}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "remarks", From: "", To: "1\n2"}}},
		{"custom multi-select", `{"whatsapp": "8615601882491", "field": "Hobbies", "to": ["Go", "Tea"]}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "Hobbies", Custom: true, From: []string{}, To: []string{"Go", "Tea"}}}},
		{"custom attachment", `{"whatsapp": "8615601882491", "field": "Files", "to": ["http://1.img", "https://2.img"]}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "Files", Custom: true, From: []string{}, To: []string{"http://1.img", "https://2.img"}}}},
		{"custom number", `{"whatsapp": "8615601882491", "field": "Score", "to": 42}`,
			events.Event{Type: events.TypeCustomerUpdated, Agent: DefaultAgent,
				Change: &events.Change{Field: "Score", Custom: true, From: "", To: "42"}}},
		{"follow-up", `{"whatsapp": "8617633819542", "followup": "Called, \"interested\"", "agent": "gavin"}`,
			events.Event{Type: events.TypeFollowupCreated, Agent: "gavin",
				Followup: &events.Followup{Text: `Called, "interested"`, Attachments: []string{}}}},
	}
	for mode, pair := range pairs {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var g captureGateway
				srv := g.serve(t, pair.conn)
				before := time.Now()
				if err := NewWebhookSender(pair.send, srv.URL, srv.Client()).SimulateChange(context.Background(), json.RawMessage(tt.change), testRules); err != nil {
					t.Fatalf("SimulateChange: %v", err)
				}
				if len(g.events) != 1 {
					t.Fatalf("events = %+v, want one", g.events)
				}
				got := g.events[0]
				var change struct{ Whatsapp string }
				_ = json.Unmarshal([]byte(tt.change), &change)
				want := tt.want
				want.Connection = testConn
				want.Customer = events.Customer{WhatsApp: change.Whatsapp}
				want.ID, want.ReceivedAt, want.OccurredAt = got.ID, got.ReceivedAt, got.OccurredAt
				if !reflect.DeepEqual(got, want) {
					gj, _ := json.Marshal(got)
					wj, _ := json.Marshal(want)
					t.Errorf("event\n got %s\nwant %s", gj, wj)
				}
				if len(got.ID) != 32 {
					t.Errorf("id %q is not 32 hex digits", got.ID)
				}
				// updateAt has whole seconds; the body's timestamp milliseconds.
				if got.OccurredAt.Before(before.Truncate(time.Second)) || got.OccurredAt.After(time.Now()) {
					t.Errorf("occurred_at %v is not the time of sending", got.OccurredAt)
				}
				if _, off := got.OccurredAt.Zone(); off != 8*3600 {
					t.Errorf("occurred_at %v is not in the provider's zone", got.OccurredAt)
				}
			})
		}
	}
}

func TestWebhookSenderBadChange(t *testing.T) {
	t.Parallel()
	g, s := capturingSender(t)
	for _, change := range []string{
		``,
		`[]`,
		`{"whatsapp": "8615601882491", "field": "address", "to": "x"} {}`,
		`{"field": "address", "to": "x"}`,
		`{"whatsapp": "call me", "field": "address", "to": "x"}`,
		`{"whatsapp": "8615601882491"}`,
		`{"whatsapp": "8615601882491", "field": "address"}`,
		`{"whatsapp": "8615601882491", "field": "address", "to": "x", "followup": "y"}`,
		`{"whatsapp": "8615601882491", "field": "address", "to": "x", "colour": "red"}`,
		`{"whatsapp": "8615601882491", "field": "gender", "to": "MALE"}`,
		`{"whatsapp": "8615601882491", "field": "birthday", "to": "1990/04/01"}`,
		`{"whatsapp": "8615601882491", "field": "tags", "to": "VIP"}`,
		`{"whatsapp": "8615601882491", "field": "tags", "to": ["a,b"]}`,
		`{"whatsapp": "8615601882491", "field": "address", "to": 12}`,
		`{"whatsapp": "8615601882491", "field": "Hobbies", "to": {"a": 1}}`,
		`{"whatsapp": "8615601882491", "field": "Hobbies", "to": ["x", 1]}`,
	} {
		err := s.SimulateChange(context.Background(), json.RawMessage(change), testRules)
		if !errors.Is(err, sandbox.ErrBadChange) {
			t.Errorf("change %s: err = %v, want ErrBadChange", change, err)
		}
	}
	if len(g.bodies) != 0 {
		t.Errorf("bad changes sent %d webhooks, want none", len(g.bodies))
	}
}

func TestWebhookSenderUnknownField(t *testing.T) {
	t.Parallel()
	g, s := capturingSender(t)
	for _, tt := range []struct {
		field      string
		rules      *fieldconfig.Rules
		wantCustom []string
	}{
		{"Nonsense", testRules, []string{"Hobbies", "Files", "Score", "Joined"}},
		{"phone", testRules, []string{"Hobbies", "Files", "Score", "Joined"}}, // canonical, but not in the webhook
		{"Hobbies", nil, nil}, // not configured for this connection
		{"ADDRESS", nil, nil}, // labels are WSCRM's spelling
		{"Follow up records", nil, nil},
	} {
		err := s.SimulateChange(context.Background(), json.RawMessage(`{"whatsapp": "8615601882491", "field": "`+tt.field+`", "to": "x"}`), tt.rules)
		var fe *sandbox.ChangeFieldError
		if !errors.As(err, &fe) {
			t.Errorf("field %q: err = %v, want a ChangeFieldError", tt.field, err)
			continue
		}
		if fe.Field != tt.field || !reflect.DeepEqual(fe.Custom, tt.wantCustom) {
			t.Errorf("field %q: error for %q, custom %v, want %v", tt.field, fe.Field, fe.Custom, tt.wantCustom)
		}
		for _, want := range []string{"address", "Address", "birthday", "DOB", "tags", "Tags"} {
			if !slices.Contains(fe.Accepted(), want) {
				t.Errorf("field %q: accepted %v lacks %q", tt.field, fe.Accepted(), want)
			}
		}
	}
	if len(g.bodies) != 0 {
		t.Errorf("unknown fields sent %d webhooks, want none", len(g.bodies))
	}
}

func TestWebhookSenderAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		answer string
		ok     bool
	}{
		{"accepted", 200, `{"code":200,"message":"Success","data":""}`, true},
		{"code as a string", 200, `{"code":"200","message":"","data":""}`, true},
		{"refused with 401", 401, `{"type":"about:blank","status":401}`, false},
		{"200 with another code", 200, `{"code":-1,"message":"token error","data":""}`, false},
		{"200 not JSON", 200, `OK`, false},
		{"server error", 500, ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.answer))
			}))
			defer srv.Close()
			err := NewWebhookSender(SenderConfig{TenantID: 1, Token: "t"}, srv.URL, srv.Client()).
				SimulateChange(context.Background(), json.RawMessage(`{"whatsapp": "8615601882491", "followup": "hi"}`), nil)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && errors.Is(err, sandbox.ErrBadChange) {
				t.Errorf("err = %v: a refused webhook is not a bad change", err)
			}
			if err != nil && !strings.Contains(err.Error(), strconv.Itoa(tt.status)) && tt.status != 200 {
				t.Errorf("err = %v, want it to name HTTP %d", err, tt.status)
			}
		})
	}
}
