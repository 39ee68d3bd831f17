package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the golden times are in Asia/Shanghai wherever the tests run

	"crmgate/app"
	"crmgate/auth"
	"crmgate/events"
	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
)

// Webhook credentials of the connections an events gateway serves.
const (
	// docProfileToken and docProfileTenant are the provider document's
	// profile-update example's accessToken and tenantId; docFollowToken and
	// docFollowTenant its follow-up example's.
	docProfileToken  = "83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344"
	docProfileTenant = 500975
	docFollowToken   = "e6e18763d8d5a756d45c01486d7ad6742152ac"
	docFollowTenant  = 82

	otherTenant       = 83
	otherHookToken    = "other-wa-webhook-token"
	hmacTenant        = 84
	hmacWebhookSecret = "acme-hmac-webhook-secret"
)

// hookGateway describes the gateway an events test builds: its acme-wa
// connection verifies a static token for a tenant, with a tolerance; the
// gateway also serves other-wa (static token otherHookToken, tenant 83) and
// acme-hmac (mode hmac, tenant 84), both with the default tolerance.
type hookGateway struct {
	tenant    int64
	token     string
	tolerance string // YAML duration; "" is the default (5m)
	// redisURL, when set, keeps events and subscriptions in Redis under
	// prefix.
	redisURL string
	prefix   string
	// events is the configuration's events block as YAML; "" allows
	// loopback (the subscribers are httptest servers).
	events string
	// schedule and poll shorten delivery retries for the test.
	schedule []time.Duration
	poll     time.Duration
}

// startEventsGateway builds the gateway g describes from a configuration
// document, runs its background work and serves it until the test ends
// (or its Shutdown).
func startEventsGateway(t *testing.T, g hookGateway) *apptest.Gateway {
	t.Helper()
	var doc strings.Builder
	fmt.Fprintf(&doc, "auth: {jwt: {hs256_secret: %q}}\n", secret)
	if g.events == "" {
		g.events = "{allow_loopback: true}"
	}
	fmt.Fprintf(&doc, "events: %s\n", g.events)
	tol := ""
	if g.tolerance != "" {
		tol = ", tolerance: " + g.tolerance
	}
	fmt.Fprintf(&doc, `connections:
  - id: acme-wa
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: %d
    provider_time_zone: Asia/Shanghai
    webhook: {mode: static, token: "${ACME_HOOK_TOKEN}"%s}
    field_config: {required: [whatsapp, owner]}
  - id: other-wa
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: %d
    webhook: {mode: static, token: %q}
    field_config: {}
  - id: acme-hmac
    provider: wscrm
    base_url: "http://127.0.0.1:9"
    tenant_id: %d
    webhook: {mode: hmac, secret: %q}
    field_config: {}
`, g.tenant, tol, otherTenant, otherHookToken, hmacTenant, hmacWebhookSecret)
	return startGW(t, gwSetup{doc: doc.String(), env: map[string]string{"ACME_HOOK_TOKEN": g.token}, redis: g.redisURL, run: true,
		options: app.Options{RedisPrefix: g.prefix, DeliverySchedule: g.schedule, DeliveryPoll: g.poll}})
}

// Tokens of the scopes the events tests use.
func readerToken(t *testing.T, conns ...string) string {
	t.Helper()
	return scopedToken(t, []string{auth.ScopeEventsRead}, conns...)
}

func adminToken(t *testing.T) string {
	t.Helper()
	return scopedToken(t, []string{auth.ScopeAdmin, auth.ScopeEventsRead}, auth.AllConnections)
}

// postHook posts a webhook body to POST /v1/webhooks/wscrm/{conn}, without
// a JWT.
func postHook(t *testing.T, gw, conn string, body []byte) apptest.Reply {
	t.Helper()
	return apptest.Do(t, http.MethodPost, gw+"/v1/webhooks/wscrm/"+conn, "", body)
}

// mustAcceptHook posts a webhook and fails unless it is answered HTTP 200
// with the body WSCRM expects.
func mustAcceptHook(t *testing.T, gw, conn string, body []byte) {
	t.Helper()
	r := postHook(t, gw, conn, body)
	var a struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &a) != nil || a.Code != 200 || a.Data != "" {
		t.Fatalf("webhook to %s answered %d %s, want 200 {\"code\":200,...}", conn, r.Status, r.Body)
	}
}

// eventPage is the answer of GET /v1/events, events kept as raw JSON too.
type eventPage struct {
	Events     []json.RawMessage `json:"events"`
	NextCursor *string           `json:"next_cursor"`
}

func (p eventPage) decoded(t *testing.T) []events.Event {
	t.Helper()
	out := make([]events.Event, len(p.Events))
	for i, raw := range p.Events {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatalf("event %d: %v: %s", i, err, raw)
		}
	}
	return out
}

// listEvents is GET /v1/events with q; it fails unless the answer is 200
// with next_cursor present.
func listEvents(t *testing.T, gw, tok string, q url.Values) eventPage {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, gw+"/v1/events?"+q.Encode(), tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/events?%s: %d %s", q.Encode(), r.Status, r.Body)
	}
	var p eventPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("GET /v1/events: %v: %s", err, r.Body)
	}
	if p.NextCursor == nil || *p.NextCursor == "" {
		t.Fatalf("GET /v1/events?%s: no next_cursor: %s", q.Encode(), r.Body)
	}
	if p.Events == nil {
		t.Fatalf("GET /v1/events?%s: events is not a list: %s", q.Encode(), r.Body)
	}
	return p
}

// allEvents lists every event the token sees (one page of up to 1000).
func allEvents(t *testing.T, gw, tok string) []events.Event {
	t.Helper()
	return listEvents(t, gw, tok, url.Values{"limit": {"1000"}}).decoded(t)
}

func eventIDs(evs []events.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// readDoc reads one of the WSCRM adapter's golden files, taken from the
// provider document.
func readDoc(t *testing.T, name string) []byte {
	t.Helper()
	return testutil.ReadFile(t, "..", "providers", "wscrm", "testdata", name)
}

// withoutReceivedAt re-encodes a JSON list of events with sorted keys,
// indented, each event's received_at removed (checked to be present first).
func withoutReceivedAt(t *testing.T, list []byte) string {
	t.Helper()
	var evs []map[string]any
	if err := json.Unmarshal(list, &evs); err != nil {
		t.Fatalf("not a JSON list of events: %v\n%s", err, list)
	}
	for i, e := range evs {
		if s, _ := e["received_at"].(string); s == "" {
			t.Errorf("event %d has no received_at", i)
		}
		delete(e, "received_at")
	}
	out, err := json.MarshalIndent(evs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// profileItem is one USER_SYNC_PORTRAIT item as the provider document
// writes it.
type profileItem struct {
	ID            string `json:"id"`
	Type          int    `json:"type"`
	UserName      string `json:"userName"`
	FriendWhatsID string `json:"friendWhatsId"`
	Field         string `json:"field"`
	FieldType     int    `json:"fieldType"`
	FieldConfig   int    `json:"fieldConfig"`
	SourceValue   string `json:"sourceValue"`
	TargetValue   string `json:"targetValue"`
	UpdateAt      string `json:"updateAt"`
}

// addressChange is a type-1 item changing the customer's address.
func addressChange(id, whats, to string) profileItem {
	return profileItem{ID: id, Type: 1, UserName: "Zhang San", FriendWhatsID: whats, Field: "Address",
		FieldConfig: 1, TargetValue: to, UpdateAt: "2026-01-02 03:04:05"}
}

// profileBody is a profile-update webhook body with accessToken tok for
// tenant, sent at ts.
func profileBody(t *testing.T, tok string, tenant int64, ts time.Time, items ...profileItem) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"accessToken": tok, "tenantId": tenant, "timestamp": ts.UnixMilli(), "data": items})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// followBody is a follow-up webhook body with one item.
func followBody(t *testing.T, tok string, tenant int64, ts time.Time, whats, text string) []byte {
	t.Helper()
	follow, _ := json.Marshal(map[string]any{"data": map[string]any{"text": text, "url": []string{}}})
	b, err := json.Marshal(map[string]any{"accessToken": tok, "callBackUrl": "", "tenantId": tenant, "timestamp": ts.UnixMilli(),
		"data": []map[string]any{{"friendWhatsId": whats, "userId": 1221, "tenantId": tenant, "follow": string(follow), "username": "gavin"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hmacAccessToken is the accessToken of mode hmac, computed here from
// providers.md: lowercase hex HMAC-SHA256(secret, tenantId + "." + timestamp).
func hmacAccessToken(secret string, tenant int64, ts time.Time) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(tenant, 10) + "." + strconv.FormatInt(ts.UnixMilli(), 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// verifyStandardWebhook checks a delivery's signature as a subscriber
// would, written from the Standard Webhooks specification rather than with
// the gateway's code: the key is the base64-decoded part of the secret after
// "whsec_", the signed content id + "." + timestamp + "." + body, the header
// space-separated "v1,<base64 HMAC-SHA256>" entries of which one must match.
func verifyStandardWebhook(secret string, h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return fmt.Errorf("webhook-timestamp %q is not unix seconds", ts)
	}
	b64, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return fmt.Errorf("secret does not start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) != 32 {
		return fmt.Errorf("secret is not whsec_ + base64 of 32 bytes")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no signature in %q matches", sigs)
}

// delivery is one request a subscriber received.
type delivery struct {
	ID     string
	Body   []byte
	Status int // what the subscriber answered
}

// subscriber is an httptest receiver of event deliveries. It verifies every
// delivery's signature (a bad one is a test error and answered 400), answers
// what answer says, and reports accepted deliveries on Accepted.
type subscriber struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	secret   string
	answer   func(r *http.Request, id string, attempt int) int
	attempts map[string]int
	all      []delivery
	Accepted chan delivery
}

// newSubscriber starts a receiver; answer (nil: always 204) decides each
// attempt's status, attempt counting from 1 per webhook-id. The secret is set
// with setSecret once the subscription exists; until then every delivery is
// an error.
func newSubscriber(t *testing.T, answer func(r *http.Request, id string, attempt int) int) *subscriber {
	t.Helper()
	if answer == nil {
		answer = func(*http.Request, string, int) int { return http.StatusNoContent }
	}
	s := &subscriber{t: t, answer: answer, attempts: map[string]int{}, Accepted: make(chan delivery, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *subscriber) setSecret(secret string) {
	s.mu.Lock()
	s.secret = secret
	s.mu.Unlock()
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	s.mu.Lock()
	secret := s.secret
	s.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		s.t.Errorf("delivery %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := verifyStandardWebhook(secret, r.Header, body); err != nil {
		s.t.Errorf("delivery %s: signature: %v", r.Header.Get("webhook-id"), err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	var ev events.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != id {
		s.t.Errorf("delivery body is not the event with id %s: %s", id, body)
	}
	s.mu.Lock()
	s.attempts[id]++
	n := s.attempts[id]
	s.mu.Unlock()
	status := s.answer(r, id, n)
	s.mu.Lock()
	s.all = append(s.all, delivery{ID: id, Body: body, Status: status})
	s.mu.Unlock()
	w.WriteHeader(status)
	if status >= 200 && status < 300 {
		s.Accepted <- delivery{ID: id, Body: body, Status: status}
	}
}

// attemptsOf is how many deliveries of id arrived.
func (s *subscriber) attemptsOf(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[id]
}

// deliveriesOf returns every delivery of id, in arrival order.
func (s *subscriber) deliveriesOf(id string) []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []delivery
	for _, d := range s.all {
		if d.ID == id {
			out = append(out, d)
		}
	}
	return out
}

// deliveryWait bounds every wait for a delivery; it only keeps a broken
// gateway from hanging the test.
const deliveryWait = 30 * time.Second

// next returns the next accepted delivery, failing the test when none comes.
func (s *subscriber) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-s.Accepted:
		return d
	case <-time.After(deliveryWait):
		t.Fatalf("no delivery accepted within %s", deliveryWait)
		return delivery{}
	}
}

// createdSubscription is the answer of POST /v1/subscriptions.
type createdSubscription struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Types       []string `json:"types"`
	Connections []string `json:"connections"`
	Secret      string   `json:"secret"`
}

// subscribe creates a subscription to s with the admin token and gives s
// its secret.
func subscribe(t *testing.T, gw string, s *subscriber, types, conns []string) createdSubscription {
	t.Helper()
	r := apptest.Do(t, http.MethodPost, gw+"/v1/subscriptions", adminToken(t),
		map[string]any{"url": s.URL, "types": types, "connections": conns})
	if r.Status != http.StatusCreated {
		t.Fatalf("POST /v1/subscriptions: %d %s", r.Status, r.Body)
	}
	var c createdSubscription
	if err := json.Unmarshal(r.Body, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID == "" || c.URL != s.URL || !strings.HasPrefix(c.Secret, "whsec_") {
		t.Fatalf("created subscription %s", r.Body)
	}
	s.setSecret(c.Secret)
	return c
}

// failures is GET /v1/subscriptions/{id}/failures.
func failures(t *testing.T, gw, subID string) []events.Failure {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, gw+"/v1/subscriptions/"+subID+"/failures", adminToken(t), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET failures: %d %s", r.Status, r.Body)
	}
	var f struct {
		Failures []events.Failure `json:"failures"`
	}
	if err := json.Unmarshal(r.Body, &f); err != nil || f.Failures == nil {
		t.Fatalf("GET failures: %v: %s", err, r.Body)
	}
	return f.Failures
}
