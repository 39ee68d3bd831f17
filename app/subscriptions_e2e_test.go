package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"crmgate/auth"
	"crmgate/internal/apptest"
)

// createAs is POST /v1/subscriptions with tok; it returns the status and,
// on 201, the subscription's id.
func createAs(t *testing.T, gw, tok, hookURL string, conns []string) (int, string) {
	t.Helper()
	body := map[string]any{"url": hookURL}
	if conns != nil {
		body["connections"] = conns
	}
	r := apptest.Do(t, http.MethodPost, gw+"/v1/subscriptions", tok, body)
	var c createdSubscription
	if r.Status == http.StatusCreated {
		if err := json.Unmarshal(r.Body, &c); err != nil || c.ID == "" {
			t.Fatalf("created: %s (%v)", r.Body, err)
		}
	}
	return r.Status, c.ID
}

// listedAs is GET /v1/subscriptions with tok: the ids listed.
func listedAs(t *testing.T, gw, tok string) []string {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, gw+"/v1/subscriptions", tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/subscriptions: %d %s", r.Status, r.Body)
	}
	var l struct {
		Subscriptions []createdSubscription `json:"subscriptions"`
	}
	if err := json.Unmarshal(r.Body, &l); err != nil || l.Subscriptions == nil {
		t.Fatalf("GET /v1/subscriptions: %v: %s", err, r.Body)
	}
	ids := []string{}
	for _, s := range l.Subscriptions {
		ids = append(ids, s.ID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// An admin token limited to some connections sees and changes only the
// subscriptions within them; another tenant's are answered 404 as if they
// did not exist. A token for every connection sees all.
func TestSubscriptionsScopedToTokenConnections(t *testing.T) {
	t.Parallel()
	gw := startEventsGateway(t, hookGateway{tenant: 82, token: "acme-wa-webhook-token"})
	hook := newSubscriber(t, nil).URL
	acme := scopedToken(t, []string{auth.ScopeAdmin}, "acme-wa")
	other := scopedToken(t, []string{auth.ScopeAdmin}, "other-wa")
	star := adminToken(t)

	code, acmeSub := createAs(t, gw.URL, acme, hook, nil) // defaults to the token's connections
	if code != http.StatusCreated {
		t.Fatalf("acme creates: %d", code)
	}
	code, otherSub := createAs(t, gw.URL, other, hook, []string{"other-wa"})
	if code != http.StatusCreated {
		t.Fatalf("other creates: %d", code)
	}
	code, bothSub := createAs(t, gw.URL, star, hook, []string{"acme-wa", "other-wa"})
	if code != http.StatusCreated {
		t.Fatalf("star creates for both: %d", code)
	}
	code, everySub := createAs(t, gw.URL, star, hook, nil) // every connection
	if code != http.StatusCreated {
		t.Fatalf("star creates for every connection: %d", code)
	}

	// Creation names connections as every other endpoint does (§2).
	for _, tt := range []struct {
		name  string
		tok   string
		conns []string
		want  int
	}{
		{"a connection the token is not allowed", acme, []string{"other-wa"}, http.StatusForbidden},
		{"one allowed, one not", acme, []string{"acme-wa", "other-wa"}, http.StatusForbidden},
		{"a connection not allowed that does not exist", acme, []string{"nope"}, http.StatusForbidden},
		{"every connection, naming one that does not exist", star, []string{"nope"}, http.StatusNotFound},
	} {
		if code, id := createAs(t, gw.URL, tt.tok, hook, tt.conns); code != tt.want {
			t.Errorf("create, %s: %d (%s), want %d", tt.name, code, id, tt.want)
		}
	}

	if d := listedAs(t, gw.URL, acme); !slices.Equal(d, []string{acmeSub}) {
		t.Errorf("acme lists %v, want only %s", d, acmeSub)
	}
	if d := listedAs(t, gw.URL, other); !slices.Equal(d, []string{otherSub}) {
		t.Errorf("other lists %v, want only %s", d, otherSub)
	}
	if d, want := listedAs(t, gw.URL, star), sorted(acmeSub, otherSub, bothSub, everySub); !slices.Equal(d, want) {
		t.Errorf("star lists %v, want %v", d, want)
	}

	// Outside the token's connections: 404 on every operation, and nothing changes.
	for _, id := range []string{otherSub, bothSub, everySub} {
		for _, op := range []struct{ method, path string }{
			{http.MethodGet, "/v1/subscriptions/" + id + "/failures"},
			{http.MethodPost, "/v1/subscriptions/" + id + "/failures/e1/redeliver"},
			{http.MethodDelete, "/v1/subscriptions/" + id},
		} {
			if r := apptest.Do(t, op.method, gw.URL+op.path, acme, nil); r.Status != http.StatusNotFound {
				t.Errorf("acme %s %s: %d %s, want 404", op.method, op.path, r.Status, r.Body)
			}
		}
	}
	if d, want := listedAs(t, gw.URL, star), sorted(acmeSub, otherSub, bothSub, everySub); !slices.Equal(d, want) {
		t.Fatalf("after acme's attempts star lists %v, want %v", d, want)
	}

	// Within them: allowed.
	if r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/subscriptions/"+acmeSub+"/failures", acme, nil); r.Status != http.StatusOK {
		t.Errorf("acme reads its failures: %d %s", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodDelete, gw.URL+"/v1/subscriptions/"+acmeSub, acme, nil); r.Status != http.StatusNoContent {
		t.Errorf("acme deletes its subscription: %d %s", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/subscriptions/"+otherSub+"/failures", star, nil); r.Status != http.StatusOK {
		t.Errorf("star reads other's failures: %d %s", r.Status, r.Body)
	}
	if r := apptest.Do(t, http.MethodDelete, gw.URL+"/v1/subscriptions/"+otherSub, star, nil); r.Status != http.StatusNoContent {
		t.Errorf("star deletes other's subscription: %d %s", r.Status, r.Body)
	}
	if d, want := listedAs(t, gw.URL, star), sorted(bothSub, everySub); !slices.Equal(d, want) {
		t.Errorf("at the end star lists %v, want %v", d, want)
	}
}

// A subscription URL that leads to loopback, link-local (cloud metadata),
// unspecified or multicast addresses, however spelled, one with userinfo, one
// that does not resolve and one outside events.subscriber_networks are
// refused at creation with a 422 problem naming the reason; nothing is stored.
func TestSubscriptionURLRefusals(t *testing.T) {
	t.Parallel()
	open := startEventsGateway(t, hookGateway{tenant: 82, token: "t", events: "{}"})
	narrow := startEventsGateway(t, hookGateway{tenant: 82, token: "t", events: "{subscriber_networks: [10.20.0.0/16]}"})
	tests := []struct {
		gw   *apptest.Gateway
		url  string
		want string // "" = 201, else a part of the problem's detail
	}{
		{open, "http://10.0.0.7:8080/hook", ""},
		{open, "https://[fd00::7]/hook", ""},
		{open, "http://127.0.0.1:6379/", "loopback"},
		{open, "http://[::1]/hook", "loopback"},
		{open, "http://[::ffff:127.0.0.1]/hook", "loopback"},
		{open, "http://localhost:8080/hook", "loopback"},
		{open, "http://0x7f000001/hook", "non-standard form"},
		{open, "http://127.1/hook", "non-standard form"},
		{open, "http://2130706433/hook", "non-standard form"},
		{open, "http://169.254.169.254/latest/meta-data/", "link-local"},
		{open, "http://[fe80::1]/hook", "link-local"},
		{open, "http://0.0.0.0:8080/hook", "unspecified"},
		{open, "http://[::]/hook", "unspecified"},
		{open, "http://239.1.2.3/hook", "multicast"},
		{open, "http://user:secret@10.0.0.7/hook", "userinfo"},
		{open, "gopher://10.0.0.7/hook", "http(s)"},
		{open, "http://nowhere.invalid/hook", "does not resolve"},
		{narrow, "http://10.20.3.4/hook", ""},
		{narrow, "http://10.0.0.7/hook", "subscriber_networks"},
		{narrow, "http://127.0.0.1/hook", "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			before := listedAs(t, tt.gw.URL, adminToken(t))
			r := apptest.Do(t, http.MethodPost, tt.gw.URL+"/v1/subscriptions", adminToken(t), map[string]any{"url": tt.url})
			if tt.want == "" {
				if r.Status != http.StatusCreated {
					t.Fatalf("%d %s, want 201", r.Status, r.Body)
				}
				return
			}
			var p struct {
				Status int    `json:"status"`
				Detail string `json:"detail"`
				Errors []struct {
					Field   string `json:"field"`
					Message string `json:"message"`
				} `json:"errors"`
			}
			if r.Status != http.StatusUnprocessableEntity || r.Header.Get("Content-Type") != "application/problem+json" ||
				json.Unmarshal(r.Body, &p) != nil || p.Status != 422 || !strings.Contains(p.Detail, tt.want) ||
				len(p.Errors) != 1 || p.Errors[0].Field != "url" || !strings.Contains(p.Errors[0].Message, tt.want) {
				t.Fatalf("%d %s %s, want a 422 problem saying %q", r.Status, r.Header.Get("Content-Type"), r.Body, tt.want)
			}
			if after := listedAs(t, tt.gw.URL, adminToken(t)); !slices.Equal(before, after) {
				t.Fatalf("a refused subscription was stored: %v", after)
			}
		})
	}
}
