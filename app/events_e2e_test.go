package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/auth"
	"crmgate/events"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
)

// hugeTolerance lets the provider document's 2022 bodies be posted verbatim:
// the golden tests keep every byte of them (their timestamps included, which
// the follow-up's derived id and occurred_at depend on) and widen the
// connection's webhook.tolerance instead.
const hugeTolerance = "87600h"

// The provider document's two example webhooks, posted as they are, become
// exactly the canonical events of the adapter's golden files (received_at
// aside), listed by GET /v1/events; posting them again adds nothing.
func TestWebhookDocumentExamplesBecomeEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, golden string
		tenant             int64
		token              string
	}{
		{"profile update: three items", "webhook_profile_update.json", "webhook_profile_update_events.json", docProfileTenant, docProfileToken},
		{"follow-up: the document's missing brace and duplicate item", "webhook_follow_up.json", "webhook_follow_up_events.json", docFollowTenant, docFollowToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gw := startEventsGateway(t, hookGateway{tenant: tt.tenant, token: tt.token, tolerance: hugeTolerance})
			body := readDoc(t, tt.body)
			tok := readerToken(t, "acme-wa")
			before := time.Now()
			mustAcceptHook(t, gw.URL, "acme-wa", body)
			after := time.Now()

			page := listEvents(t, gw.URL, tok, url.Values{})
			got, _ := json.Marshal(page.Events)
			if g, w := withoutReceivedAt(t, got), withoutReceivedAt(t, readDoc(t, tt.golden)); g != w {
				t.Errorf("GET /v1/events differs from %s\n--- got\n%s\n--- want\n%s", tt.golden, g, w)
			}
			for _, e := range page.decoded(t) {
				if e.ReceivedAt.Before(before.Truncate(time.Second)) || e.ReceivedAt.After(after) {
					t.Errorf("event %s received_at %s, not when it was posted", e.ID, e.ReceivedAt)
				}
			}

			mustAcceptHook(t, gw.URL, "acme-wa", body)
			again := listEvents(t, gw.URL, tok, url.Values{})
			if len(again.Events) != len(page.Events) {
				t.Errorf("posting the same body twice: %d events, want %d", len(again.Events), len(page.Events))
			}
			resumed := listEvents(t, gw.URL, tok, url.Values{"after": {*page.NextCursor}})
			if len(resumed.Events) != 0 || *resumed.NextCursor != *page.NextCursor {
				t.Errorf("after the first listing's cursor: %d events, cursor %q; want none and %q", len(resumed.Events), *resumed.NextCursor, *page.NextCursor)
			}
		})
	}
}

// A webhook that fails verification or cannot be read is refused with a 4xx
// and stores nothing; webhook credentials and JWTs do not stand in for each
// other.
func TestWebhookRejections(t *testing.T) {
	t.Parallel()
	const hookToken = "acme-wa-webhook-token"
	gw := startEventsGateway(t, hookGateway{tenant: 82, token: hookToken})
	now := time.Now()
	item := addressChange("0f0e0d0c0b0a09080706050403020100", "8615601882491", "123123")
	good := profileBody(t, hookToken, 82, now, item)
	tests := []struct {
		name string
		conn string
		body []byte
		tok  string // a JWT sent along
		want int
	}{
		{"bad token", "acme-wa", profileBody(t, hookToken+"x", 82, now, item), "", http.StatusUnauthorized},
		{"another connection's webhook token", "acme-wa", profileBody(t, otherHookToken, 82, now, item), "", http.StatusUnauthorized},
		{"empty token", "acme-wa", profileBody(t, "", 82, now, item), "", http.StatusUnauthorized},
		{"stale: 6m old", "acme-wa", profileBody(t, hookToken, 82, now.Add(-6*time.Minute), item), "", http.StatusUnauthorized},
		{"future: 6m ahead", "acme-wa", profileBody(t, hookToken, 82, now.Add(6*time.Minute), item), "", http.StatusUnauthorized},
		{"timestamp in seconds, not milliseconds", "acme-wa",
			[]byte(strings.Replace(string(good), `"timestamp":`+itoa(now.UnixMilli()), `"timestamp":`+itoa(now.Unix()), 1)), "", http.StatusUnauthorized},
		{"wrong tenantId", "acme-wa", profileBody(t, hookToken, 83, now, item), "", http.StatusUnauthorized},
		{"a valid admin JWT instead of the token", "acme-wa", profileBody(t, "", 82, now, item), adminToken(t), http.StatusUnauthorized},
		{"hmac: the static token's value", "acme-hmac", profileBody(t, hookToken, hmacTenant, now, item), "", http.StatusUnauthorized},
		{"hmac: signed for another timestamp", "acme-hmac",
			profileBody(t, hmacAccessToken(hmacWebhookSecret, hmacTenant, now.Add(time.Second)), hmacTenant, now, item), "", http.StatusUnauthorized},
		{"hmac: signed with another secret", "acme-hmac",
			profileBody(t, hmacAccessToken("not-the-secret", hmacTenant, now), hmacTenant, now, item), "", http.StatusUnauthorized},
		{"malformed: not JSON", "acme-wa", []byte(`{"accessToken":`), "", http.StatusBadRequest},
		{"malformed: no data", "acme-wa", []byte(`{"accessToken":"` + hookToken + `","tenantId":82,"timestamp":` + itoa(now.UnixMilli()) + `}`), "", http.StatusBadRequest},
		{"malformed: an item neither kind", "acme-wa",
			[]byte(`{"accessToken":"` + hookToken + `","tenantId":82,"timestamp":` + itoa(now.UnixMilli()) + `,"data":[{"friendWhatsId":"1"}]}`), "", http.StatusBadRequest},
		{"unknown connection", "nope", good, "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apptest.Do(t, http.MethodPost, gw.URL+"/v1/webhooks/wscrm/"+tt.conn, tt.tok, tt.body)
			if r.Status != tt.want {
				t.Errorf("answered %d %s, want %d", r.Status, r.Body, tt.want)
			}
			if strings.Contains(string(r.Body), hookToken) || strings.Contains(string(r.Body), hmacWebhookSecret) {
				t.Errorf("the answer shows a webhook secret: %s", r.Body)
			}
		})
	}
	if evs := allEvents(t, gw.URL, adminToken(t)); len(evs) != 0 {
		t.Fatalf("refused webhooks stored %d events: %v", len(evs), eventIDs(evs))
	}

	// A webhook credential opens nothing under /v1.
	for _, cred := range []string{hookToken, otherHookToken, hmacAccessToken(hmacWebhookSecret, hmacTenant, now)} {
		for _, path := range []string{"/v1/events", "/v1/subscriptions", "/v1/connections"} {
			if r := apptest.Do(t, http.MethodGet, gw.URL+path, cred, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("GET %s with a webhook token as Bearer: %d %s, want 401", path, r.Status, r.Body)
			}
		}
	}

	// The same connection accepts what verifies, at the tolerance's edges
	// too, and for mode hmac the HMAC of tenantId.timestamp.
	mustAcceptHook(t, gw.URL, "acme-wa", good)
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now.Add(-4*time.Minute), addressChange("1f", "8615601882491", "a")))
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now.Add(4*time.Minute), addressChange("2f", "8615601882491", "b")))
	mustAcceptHook(t, gw.URL, "acme-hmac", profileBody(t, hmacAccessToken(hmacWebhookSecret, hmacTenant, now), hmacTenant, now, addressChange("3f", "8615601882491", "c")))
	evs := allEvents(t, gw.URL, adminToken(t))
	if got, want := eventIDs(evs), []string{item.ID, "1f", "2f", "3f"}; !slices.Equal(got, want) {
		t.Errorf("accepted events %v, want %v", got, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A subscriber gets every event once, in storage order, as the event object
// signed per Standard Webhooks; an event it refuses twice comes again until
// accepted; one it never accepts is given up after the schedule, listed in
// the subscription's failures and delivered again on request.
func TestSubscriptionDelivery(t *testing.T) {
	t.Parallel()
	const hookToken = "acme-wa-webhook-token"
	// Two retries after the first attempt, a few milliseconds apart.
	gw := startEventsGateway(t, hookGateway{tenant: 82, token: hookToken,
		schedule: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, poll: 50 * time.Millisecond})
	const twice, never = "e2000000000000000000000000000002", "e4000000000000000000000000000004"
	var neverOpen atomic.Bool
	sub := newSubscriber(t, func(_ *http.Request, id string, attempt int) int {
		switch {
		case id == twice && attempt <= 2, id == never && !neverOpen.Load():
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	follows := newSubscriber(t, nil)
	all := subscribe(t, gw.URL, sub, nil, nil)
	onlyFollowups := subscribe(t, gw.URL, follows, []string{events.TypeFollowupCreated}, []string{"acme-wa"})

	// The secret is shown once: GET /v1/subscriptions lists both without it.
	r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/subscriptions", adminToken(t), nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), all.ID) || !strings.Contains(string(r.Body), onlyFollowups.ID) {
		t.Fatalf("GET /v1/subscriptions: %d %s", r.Status, r.Body)
	}
	if strings.Contains(string(r.Body), all.Secret) || strings.Contains(string(r.Body), onlyFollowups.Secret) || strings.Contains(string(r.Body), `"secret"`) {
		t.Errorf("GET /v1/subscriptions shows a secret: %s", r.Body)
	}
	if r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/subscriptions", readerToken(t, auth.AllConnections), nil); r.Status != http.StatusForbidden {
		t.Errorf("GET /v1/subscriptions without the admin scope: %d %s, want 403", r.Status, r.Body)
	}

	now := time.Now()
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now,
		addressChange("e1000000000000000000000000000001", "8615601882491", "one"),
		addressChange(twice, "8615601882491", "two"),
		addressChange("e3000000000000000000000000000003", "8615601882491", "three"),
		addressChange(never, "8615601882491", "four")))
	mustAcceptHook(t, gw.URL, "acme-wa", followBody(t, hookToken, 82, now, "8617633819542", "Beautiful China"))
	mustAcceptHook(t, gw.URL, "other-wa", profileBody(t, otherHookToken, otherTenant, now,
		addressChange("e6000000000000000000000000000006", "33758618170", "six")))
	page := listEvents(t, gw.URL, adminToken(t), url.Values{})
	stored := page.decoded(t)
	if len(stored) != 6 {
		t.Fatalf("stored %v, want 6 events", eventIDs(stored))
	}
	body := map[string]string{} // event id → its JSON as GET /v1/events lists it
	for i, e := range stored {
		body[e.ID] = testutil.SortedJSON(t, page.Events[i])
	}
	followID := stored[4].ID

	// Everything but the refused event is accepted once, in order, each
	// delivery the event exactly as listed.
	for _, want := range []string{stored[0].ID, twice, stored[2].ID, followID, stored[5].ID} {
		d := sub.next(t)
		if d.ID != want {
			t.Fatalf("accepted %s, want %s next", d.ID, want)
		}
		if got := testutil.SortedJSON(t, d.Body); got != body[want] {
			t.Errorf("delivery of %s\n%s\nis not the event listed\n%s", want, got, body[want])
		}
	}
	if d := follows.next(t); d.ID != followID {
		t.Errorf("the follow-up subscription got %s, want only %s", d.ID, followID)
	}
	if n := sub.attemptsOf(twice); n != 3 {
		t.Errorf("%s was attempted %d times, want 3 (two refusals, then accepted)", twice, n)
	}
	for _, d := range sub.deliveriesOf(twice) {
		if testutil.SortedJSON(t, d.Body) != body[twice] {
			t.Errorf("a retry of %s carried another body: %s", twice, d.Body)
		}
	}

	// Delivery went on past the event given up, so its failure is already
	// recorded: the first attempt and both retries, each answered 500.
	fs := failures(t, gw.URL, all.ID)
	if len(fs) != 1 || fs[0].Event.ID != never || fs[0].Attempts != 3 || fs[0].LastStatus != http.StatusInternalServerError || fs[0].LastError == "" {
		t.Fatalf("failures %+v, want %s after 3 attempts answered 500", fs, never)
	}
	if n := sub.attemptsOf(never); n != 3 {
		t.Errorf("%s was attempted %d times, want 3", never, n)
	}

	neverOpen.Store(true)
	if r := apptest.Do(t, http.MethodPost, gw.URL+"/v1/subscriptions/"+all.ID+"/failures/"+never+"/redeliver", adminToken(t), nil); r.Status != http.StatusAccepted {
		t.Fatalf("redeliver: %d %s", r.Status, r.Body)
	}
	if d := sub.next(t); d.ID != never || testutil.SortedJSON(t, d.Body) != body[never] {
		t.Fatalf("after redeliver, accepted %s %s, want %s", d.ID, d.Body, never)
	}
	if fs := failures(t, gw.URL, all.ID); len(fs) != 0 {
		t.Errorf("failures after a successful redelivery: %+v", fs)
	}
	for _, path := range []string{
		"/v1/subscriptions/" + all.ID + "/failures/" + never + "/redeliver", // no longer failed
		"/v1/subscriptions/" + all.ID + "/failures/nope/redeliver",
		"/v1/subscriptions/sub_nope/failures/" + never + "/redeliver",
	} {
		if r := apptest.Do(t, http.MethodPost, gw.URL+path, adminToken(t), nil); r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d %s, want 404", path, r.Status, r.Body)
		}
	}

	// Exactly once under normal operation; the follow-up subscription's
	// filters kept every other event from it.
	for _, e := range stored {
		want := 1
		switch e.ID {
		case twice:
			want = 3
		case never:
			want = 4
		}
		if n := sub.attemptsOf(e.ID); n != want {
			t.Errorf("%s delivered %d times, want %d", e.ID, n, want)
		}
		if e.ID != followID && follows.attemptsOf(e.ID) != 0 {
			t.Errorf("the follow-up subscription got %s (%s on %s)", e.ID, e.Type, e.Connection)
		}
	}

	// The metrics count every attempt by outcome (two retries each of twice
	// and never, never given up once, seven accepted), and each
	// subscription's lag falls back to 0 once nothing waits for it.
	var metrics string
	testutil.Eventually(t, 10*time.Second, "the delivery metrics", func() bool {
		r := apptest.Do(t, http.MethodGet, gw.URL+"/metrics", "", nil)
		metrics = string(r.Body)
		return r.Status == http.StatusOK && metricAtLeast(metrics, `crmgate_event_deliveries_total{outcome="retry"}`, 4) &&
			metricAtLeast(metrics, `crmgate_event_deliveries_total{outcome="failed"}`, 1) &&
			metricAtLeast(metrics, `crmgate_event_deliveries_total{outcome="delivered"}`, 7) &&
			strings.Contains(metrics, `crmgate_event_delivery_lag_seconds{subscription="`+all.ID+`"} 0`)
	})

	if r := apptest.Do(t, http.MethodDelete, gw.URL+"/v1/subscriptions/"+all.ID, adminToken(t), nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/subscriptions/"+all.ID+"/failures", adminToken(t), nil); r.Status != http.StatusNotFound {
		t.Errorf("failures of a deleted subscription: %d, want 404", r.Status)
	}
}

// GET /v1/events pages in order by cursor, filters by type and shows a token
// only its connections' events.
func TestEventListing(t *testing.T) {
	t.Parallel()
	const hookToken = "acme-wa-webhook-token"
	gw := startEventsGateway(t, hookGateway{tenant: 82, token: hookToken})
	now := time.Now()
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now,
		addressChange("a1", "8615601882491", "one"), addressChange("a2", "8615601882491", "two"), addressChange("a3", "8615601882491", "three")))
	mustAcceptHook(t, gw.URL, "acme-wa", followBody(t, hookToken, 82, now, "8617633819542", "Beautiful China"))
	mustAcceptHook(t, gw.URL, "other-wa", profileBody(t, otherHookToken, otherTenant, now, addressChange("o1", "33758618170", "x")))
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now, addressChange("a4", "8615601882491", "four")))

	admin := adminToken(t)
	stored := allEvents(t, gw.URL, admin)
	ids := eventIDs(stored)
	if len(ids) != 6 || !slices.Equal(slices.Delete(slices.Clone(ids), 3, 4), []string{"a1", "a2", "a3", "o1", "a4"}) ||
		stored[3].Type != events.TypeFollowupCreated {
		t.Fatalf("stored %v, want a1 a2 a3 <follow-up> o1 a4", ids)
	}
	followID := ids[3]

	// limit=1 pages through everything; the cursor after the last page
	// stays put until something new arrives.
	var paged []string
	cursor := ""
	for range len(ids) + 2 {
		q := url.Values{"limit": {"1"}}
		if cursor != "" {
			q.Set("after", cursor)
		}
		p := listEvents(t, gw.URL, admin, q)
		if len(p.Events) == 0 {
			if *p.NextCursor != cursor {
				t.Errorf("nothing new after %q, but next_cursor %q", cursor, *p.NextCursor)
			}
			break
		}
		if len(p.Events) != 1 {
			t.Fatalf("limit=1 gave %d events", len(p.Events))
		}
		paged = append(paged, eventIDs(p.decoded(t))...)
		cursor = *p.NextCursor
	}
	if !slices.Equal(paged, ids) {
		t.Fatalf("paged %v, want %v", paged, ids)
	}
	mustAcceptHook(t, gw.URL, "acme-wa", profileBody(t, hookToken, 82, now, addressChange("a5", "8615601882491", "five")))
	if p := listEvents(t, gw.URL, admin, url.Values{"after": {cursor}}); !slices.Equal(eventIDs(p.decoded(t)), []string{"a5"}) || *p.NextCursor == cursor {
		t.Errorf("resumed after %q: %v next %q, want [a5] and a new cursor", cursor, eventIDs(p.decoded(t)), *p.NextCursor)
	}
	ids = append(ids, "a5")

	acme := readerToken(t, "acme-wa")
	other := readerToken(t, "other-wa")
	everyOther := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(drop, id) })
	}
	tests := []struct {
		name string
		tok  string
		q    url.Values
		want []string
	}{
		{"type customer.followup_created", admin, url.Values{"type": {events.TypeFollowupCreated}}, []string{followID}},
		{"type customer.updated", admin, url.Values{"type": {events.TypeCustomerUpdated}}, everyOther(followID)},
		{"both types", admin, url.Values{"type": {events.TypeCustomerUpdated + "," + events.TypeFollowupCreated}}, ids},
		{"type with limit 1", admin, url.Values{"type": {events.TypeFollowupCreated}, "limit": {"1"}}, []string{followID}},
		{"a token for acme-wa", acme, url.Values{}, everyOther("o1")},
		{"a token for acme-wa naming it", acme, url.Values{"connection": {"acme-wa"}}, everyOther("o1")},
		{"a token for other-wa", other, url.Values{}, []string{"o1"}},
		{"a token for other-wa, follow-ups", other, url.Values{"type": {events.TypeFollowupCreated}}, []string{}},
		{"every connection, naming other-wa", admin, url.Values{"connection": {"other-wa"}}, []string{"o1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := eventIDs(listEvents(t, gw.URL, tt.tok, tt.q).decoded(t)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	refusals := []struct {
		name string
		tok  string
		q    string
		want int
	}{
		{"a token for other-wa naming acme-wa", other, "connection=acme-wa", http.StatusForbidden},
		{"a token for other-wa naming a connection that does not exist", other, "connection=nope", http.StatusForbidden},
		{"every connection, naming one that does not exist", admin, "connection=nope", http.StatusNotFound},
		{"no events:read scope", scopedToken(t, []string{auth.ScopeCustomersRead, auth.ScopeAdmin}, auth.AllConnections), "", http.StatusForbidden},
		{"no token", "", "", http.StatusUnauthorized},
		{"unknown type", admin, "type=customer.deleted", http.StatusUnprocessableEntity},
		{"not a cursor", admin, "after=not-a-cursor", http.StatusUnprocessableEntity},
		{"limit 0", admin, "limit=0", http.StatusUnprocessableEntity},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/events?"+tt.q, tt.tok, nil)
			if r.Status != tt.want {
				t.Errorf("answered %d %s, want %d", r.Status, r.Body, tt.want)
			}
			if strings.Contains(string(r.Body), `"events"`) {
				t.Errorf("a refusal lists events: %s", r.Body)
			}
		})
	}
}

// With Redis, events accepted before a restart are still listed after it,
// still not stored twice, and still delivered: a subscription whose receiver
// refused and then held the first event before the restart receives every
// event, in order, from the new gateway.
func TestEventsSurviveRestartWithRedis(t *testing.T) {
	t.Parallel()
	const hookToken = "acme-wa-webhook-token"
	rdb, prefix := redistest.Client(t) // the keys under prefix are removed at the end
	redisURL := redistest.URL(t)
	g := hookGateway{tenant: 82, token: hookToken, redisURL: redisURL, prefix: prefix,
		schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}, poll: 50 * time.Millisecond}

	var restarted atomic.Bool
	held := make(chan string, 1)
	sub := newSubscriber(t, func(r *http.Request, id string, attempt int) int {
		if restarted.Load() {
			return http.StatusNoContent
		}
		if attempt == 1 {
			return http.StatusInternalServerError
		}
		// The retry is held until the gateway stops waiting for it.
		select {
		case held <- id:
		default:
		}
		<-r.Context().Done()
		return http.StatusServiceUnavailable
	})

	before := startEventsGateway(t, g)
	s := subscribe(t, before.URL, sub, nil, nil)
	now := time.Now()
	hook := profileBody(t, hookToken, 82, now,
		addressChange("r1", "8615601882491", "one"), addressChange("r2", "8615601882491", "two"), addressChange("r3", "8615601882491", "three"))
	mustAcceptHook(t, before.URL, "acme-wa", hook)
	mustAcceptHook(t, before.URL, "acme-wa", followBody(t, hookToken, 82, now, "8617633819542", "Beautiful China"))
	admin := adminToken(t)
	page := listEvents(t, before.URL, admin, url.Values{})
	ids := eventIDs(page.decoded(t))
	if len(ids) != 4 {
		t.Fatalf("stored %v, want 4 events", ids)
	}
	select {
	case id := <-held:
		if id != "r1" {
			t.Fatalf("the first delivery held is %s, want r1", id)
		}
	case <-time.After(deliveryWait):
		t.Fatal("the refused delivery was not retried")
	}

	// Stop the first gateway as main does (server, then the app), without
	// waiting for anything: Close ends delivery before Redis is closed, so
	// the subscription's lease (the Redis subscription store's key) is
	// handed back at once rather than left to expire.
	before.Shutdown()
	if n := rdb.Exists(context.Background(), prefix+"sub:"+s.ID+":lease").Val(); n != 0 {
		t.Fatal("the stopped gateway still holds the subscription's delivery lease")
	}
	restarted.Store(true)

	after := startEventsGateway(t, g)
	again := listEvents(t, after.URL, admin, url.Values{})
	if testutil.SortedJSON(t, mustMarshal(t, again.Events)) != testutil.SortedJSON(t, mustMarshal(t, page.Events)) {
		t.Errorf("after the restart GET /v1/events lists\n%s\nwant\n%s", mustMarshal(t, again.Events), mustMarshal(t, page.Events))
	}
	if *again.NextCursor != *page.NextCursor {
		t.Errorf("next_cursor %q after the restart, %q before", *again.NextCursor, *page.NextCursor)
	}
	for _, want := range ids {
		if d := sub.next(t); d.ID != want {
			t.Fatalf("after the restart accepted %s, want %s", d.ID, want)
		}
	}
	if n := sub.attemptsOf("r1"); n != 3 {
		t.Errorf("r1 arrived %d times, want 3 (refused, held across the restart, accepted)", n)
	}

	// The dedupe marks are in Redis too; new events flow as before.
	mustAcceptHook(t, after.URL, "acme-wa", hook)
	mustAcceptHook(t, after.URL, "acme-wa", profileBody(t, hookToken, 82, now, addressChange("r4", "8615601882491", "four")))
	if got := eventIDs(allEvents(t, after.URL, admin)); !slices.Equal(got, append(ids, "r4")) {
		t.Errorf("after re-posting and one new event: %v, want %v", got, append(ids, "r4"))
	}
	if d := sub.next(t); d.ID != "r4" {
		t.Errorf("accepted %s, want r4", d.ID)
	}
	if fs := failures(t, after.URL, s.ID); len(fs) != 0 {
		t.Errorf("failures %+v, want none", fs)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// In sandbox mode a change posted to POST /v1/sandbox/sandbox-wscrm/changes
// makes the WSCRM simulator send the real webhook to the gateway, whose
// event GET /v1/events then lists; a change that cannot be sent is a 400.
func TestSandboxChangeBecomesEvent(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	a, gw := sb.App, sb.URL
	changes := gw + "/v1/sandbox/sandbox-wscrm/changes"

	start := time.Now()
	if r := apptest.Do(t, http.MethodPost, changes, a.DevToken, map[string]any{"whatsapp": "8615601882491", "field": "address", "to": "123123"}); r.Status != http.StatusAccepted {
		t.Fatalf("change: %d %s, want 202", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodPost, changes, a.DevToken, map[string]any{"whatsapp": "+86 176 3381 9542", "followup": "Beautiful China"}); r.Status != http.StatusAccepted {
		t.Fatalf("follow-up: %d %s, want 202", r.Status, r.Body)
	}
	evs := listEvents(t, gw, a.DevToken, url.Values{"connection": {"sandbox-wscrm"}}).decoded(t)
	if len(evs) != 2 {
		t.Fatalf("listed %d events, want 2: %+v", len(evs), evs)
	}
	wantChange := events.Change{Field: "address", From: "", To: "123123"}
	e := evs[0]
	if e.Type != events.TypeCustomerUpdated || e.Connection != "sandbox-wscrm" || e.Customer.WhatsApp != "8615601882491" ||
		e.Agent != "kubrick101" || e.Change == nil || *e.Change != wantChange || len(e.ID) != 32 {
		t.Errorf("change event %+v (change %+v)", e, e.Change)
	}
	f := evs[1]
	if f.Type != events.TypeFollowupCreated || f.Customer.WhatsApp != "8617633819542" || f.Followup == nil ||
		f.Followup.Text != "Beautiful China" || len(f.Followup.Attachments) != 0 || f.Followup.Raw {
		t.Errorf("follow-up event %+v (followup %+v)", f, f.Followup)
	}
	for _, e := range evs {
		if e.ReceivedAt.Before(start.Truncate(time.Second)) || e.OccurredAt.Before(start.Truncate(time.Second)) {
			t.Errorf("event %s occurred %s, received %s: before the change was posted", e.ID, e.OccurredAt, e.ReceivedAt)
		}
	}

	bad := []struct {
		name string
		body any
	}{
		{"no to", map[string]any{"whatsapp": "8615601882491", "field": "address"}},
		{"no whatsapp", map[string]any{"field": "address", "to": "123123"}},
		{"letters for a phone", map[string]any{"whatsapp": "call me", "field": "address", "to": "123123"}},
		{"a gender WSCRM has not", map[string]any{"whatsapp": "8615601882491", "field": "gender", "to": "robot"}},
		{"both a change and a follow-up", map[string]any{"whatsapp": "8615601882491", "field": "address", "to": "x", "followup": "y"}},
		{"an unknown key", map[string]any{"whatsapp": "8615601882491", "field": "address", "to": "x", "colour": "red"}},
		{"not JSON", []byte(`{"whatsapp":`)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if r := apptest.Do(t, http.MethodPost, changes, a.DevToken, tt.body); r.Status != http.StatusBadRequest {
				t.Errorf("answered %d %s, want 400", r.Status, r.Body)
			}
		})
	}
	if r := apptest.Do(t, http.MethodPost, gw+"/v1/sandbox/sandbox-nxlink/changes", a.DevToken,
		map[string]any{"whatsapp": "8615601882491", "field": "address", "to": "123123"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a change for NXLink, whose simulator sends no webhooks: %d %s, want 422", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodPost, changes, "", map[string]any{"whatsapp": "8615601882491", "field": "address", "to": "1"}); r.Status != http.StatusUnauthorized {
		t.Errorf("a change without a token: %d, want 401", r.Status)
	}
	if n := len(allEvents(t, gw, a.DevToken)); n != 2 {
		t.Errorf("%d events after the refused changes, want still 2", n)
	}
}

// metricAtLeast reports whether the Prometheus text exposition holds the
// series name (with its labels) at a value of at least min.
func metricAtLeast(text, series string, min float64) bool {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && f >= min
		}
	}
	return false
}
