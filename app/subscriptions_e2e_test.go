package app_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"crmgate/auth"
)

// createAs is POST /v1/subscriptions with tok; it returns the status and,
// on 201, the subscription's id.
func createAs(t *testing.T, gw, tok, hookURL string, conns []string) (int, string) {
	t.Helper()
	body := map[string]any{"url": hookURL}
	if conns != nil {
		body["connections"] = conns
	}
	code, raw := do(t, http.MethodPost, gw+"/v1/subscriptions", tok, body)
	var c createdSubscription
	if code == http.StatusCreated {
		if err := json.Unmarshal(raw, &c); err != nil || c.ID == "" {
			t.Fatalf("created: %s (%v)", raw, err)
		}
	}
	return code, c.ID
}

// listedAs is GET /v1/subscriptions with tok: the ids listed.
func listedAs(t *testing.T, gw, tok string) []string {
	t.Helper()
	code, raw := do(t, http.MethodGet, gw+"/v1/subscriptions", tok, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/subscriptions: %d %s", code, raw)
	}
	var l struct {
		Subscriptions []createdSubscription `json:"subscriptions"`
	}
	if err := json.Unmarshal(raw, &l); err != nil || l.Subscriptions == nil {
		t.Fatalf("GET /v1/subscriptions: %v: %s", err, raw)
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
	acme := token(t, []string{auth.ScopeAdmin}, "acme-wa")
	other := token(t, []string{auth.ScopeAdmin}, "other-wa")
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
			if code, raw := do(t, op.method, gw.URL+op.path, acme, nil); code != http.StatusNotFound {
				t.Errorf("acme %s %s: %d %s, want 404", op.method, op.path, code, raw)
			}
		}
	}
	if d, want := listedAs(t, gw.URL, star), sorted(acmeSub, otherSub, bothSub, everySub); !slices.Equal(d, want) {
		t.Fatalf("after acme's attempts star lists %v, want %v", d, want)
	}

	// Within them: allowed.
	if code, raw := do(t, http.MethodGet, gw.URL+"/v1/subscriptions/"+acmeSub+"/failures", acme, nil); code != http.StatusOK {
		t.Errorf("acme reads its failures: %d %s", code, raw)
	}
	if code, raw := do(t, http.MethodDelete, gw.URL+"/v1/subscriptions/"+acmeSub, acme, nil); code != http.StatusNoContent {
		t.Errorf("acme deletes its subscription: %d %s", code, raw)
	}
	if code, raw := do(t, http.MethodGet, gw.URL+"/v1/subscriptions/"+otherSub+"/failures", star, nil); code != http.StatusOK {
		t.Errorf("star reads other's failures: %d %s", code, raw)
	}
	if code, raw := do(t, http.MethodDelete, gw.URL+"/v1/subscriptions/"+otherSub, star, nil); code != http.StatusNoContent {
		t.Errorf("star deletes other's subscription: %d %s", code, raw)
	}
	if d, want := listedAs(t, gw.URL, star), sorted(bothSub, everySub); !slices.Equal(d, want) {
		t.Errorf("at the end star lists %v, want %v", d, want)
	}
}
