package wscrm

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"crmgate/gateway"
)

// FuzzWebhookBody feeds arbitrary bodies to the webhook receiver of two
// connections (the tenants and static tokens of the provider document's two
// example bodies, with a tolerance wide enough for every seed's timestamp):
// it never panics, and either refuses the body with an error wrapping
// gateway.ErrWebhookMalformed or gateway.ErrWebhookUnauthorized, or returns
// events of the connection that encode as JSON, each with an id and a type.
// The seeds (testdata/fuzz/FuzzWebhookBody) hold the document's bodies.
func FuzzWebhookBody(f *testing.F) {
	now := time.UnixMilli(docProfileTS).UTC()
	var adapters []*Adapter
	for _, c := range []struct {
		tenant int64
		token  string
	}{{docProfileTenant, docProfileToken}, {docFollowTenant, docFollowToken}} {
		cfg := staticConfig(c.tenant, c.token)
		cfg.Webhook.Tolerance = 5 * 365 * 24 * time.Hour
		a, err := New(gateway.Common{ID: testConn, Provider: Name, BaseURL: "http://127.0.0.1:1"}.WithDefaults(), cfg, &http.Client{})
		if err != nil {
			f.Fatal(err)
		}
		adapters = append(adapters, a)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, a := range adapters {
			evs, err := a.ReceiveWebhook(http.Header{}, body, now)
			if err != nil {
				if !errors.Is(err, gateway.ErrWebhookMalformed) && !errors.Is(err, gateway.ErrWebhookUnauthorized) {
					t.Fatalf("error %v wraps neither ErrWebhookMalformed nor ErrWebhookUnauthorized", err)
				}
				if len(evs) != 0 {
					t.Fatalf("error %v with %d events", err, len(evs))
				}
				continue
			}
			seen := map[string]bool{}
			for i, ev := range evs {
				b, err := json.Marshal(ev)
				if err != nil || !json.Valid(b) {
					t.Fatalf("event %d does not encode as JSON: %v\n%s", i, err, b)
				}
				var back struct {
					ID, Type, Connection string
				}
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if back.Type == "" || back.ID == "" || back.Connection != testConn {
					t.Fatalf("event %d = %s: want an id, a type and connection %s", i, b, testConn)
				}
				if seen[back.ID] {
					t.Fatalf("event id %s twice in one body", back.ID)
				}
				seen[back.ID] = true
				if !ev.ReceivedAt.Equal(now) {
					t.Fatalf("event %d received at %s, want %s", i, ev.ReceivedAt, now)
				}
			}
		}
	})
}
