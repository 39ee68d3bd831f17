package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"crmgate/events"
	"crmgate/gateway"
)

// hookProvider is a fake provider that receives webhooks: every body is one
// event, "bad" is refused as unverified.
type hookProvider struct{ fakeProvider }

func (h *hookProvider) ReceiveWebhook(_ http.Header, body []byte, now time.Time) ([]events.Event, error) {
	if string(body) == "bad" {
		return nil, gateway.ErrWebhookUnauthorized
	}
	return []events.Event{{ID: string(body), Type: events.TypeCustomerUpdated, Connection: "c1", ReceivedAt: now}}, nil
}

func (h *hookProvider) WebhookAnswer() []byte { return []byte(`{"code":200}`) }

// brokenStore cannot store anything.
type brokenStore struct{ events.Store }

func (brokenStore) Append(context.Context, []events.Event) (int, error) {
	return 0, errors.New("store down")
}

func webhookServer(t *testing.T, store events.Store) *Server {
	t.Helper()
	srv, _ := newTestServerWith(t, 1<<20, func(o *Options) {
		conn, err := gateway.NewConnection(gateway.Common{ID: "c1", Provider: "fake", BaseURL: "http://127.0.0.1:1"}, &hookProvider{}, nil, staticRules{})
		if err != nil {
			t.Fatal(err)
		}
		o.Connections = []*gateway.Connection{conn}
		subs, _ := events.NewMemorySubscriptions(events.NewMemoryStore(events.Options{}))
		o.Extra = append(o.Extra, EventRoutes(EventsOptions{Store: store, Subscriptions: subs}))
	})
	return srv
}

// A webhook is answered 200 only once its events are stored: a store that
// fails makes the provider send it again, and nothing is claimed.
func TestWebhookAnsweredOnlyAfterStored(t *testing.T) {
	t.Parallel()
	w := do(t, webhookServer(t, brokenStore{}), call{path: "/v1/webhooks/fake/c1", ctype: "application/json", body: strings.NewReader("e1")})
	if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), `"code":200`) {
		t.Fatalf("store down: %d %s", w.Code, w.Body)
	}
	decodeProblem(t, w)

	store := events.NewMemoryStore(events.Options{})
	srv := webhookServer(t, store)
	if w := do(t, srv, call{path: "/v1/webhooks/fake/c1", ctype: "application/json", body: strings.NewReader("bad")}); w.Code != http.StatusUnauthorized {
		t.Fatalf("unverified: %d", w.Code)
	}
	w = do(t, srv, call{path: "/v1/webhooks/fake/c1", ctype: "application/json", body: strings.NewReader("e1")})
	if w.Code != 200 || w.Body.String() != `{"code":200}` {
		t.Fatalf("stored: %d %s", w.Code, w.Body)
	}
	page, err := store.List(context.Background(), events.Query{})
	if err != nil || len(page.Events) != 1 || page.Events[0].ID != "e1" {
		t.Fatalf("stored events %+v %v: only the verified webhook's", page.Events, err)
	}
	if w := do(t, srv, call{path: "/v1/webhooks/other/c1", ctype: "application/json", body: strings.NewReader("e2")}); w.Code != 404 {
		t.Fatalf("another provider's path: %d", w.Code)
	}
}
