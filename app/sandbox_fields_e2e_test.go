package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"crmgate/internal/apptest"
)

// A sandbox change names its field as a canonical name, as WSCRM's own label
// (the webhook document's "Address") or as a configured custom field; each
// comes back as the event of that field. Anything else is a 422 that lists
// what is accepted, and nothing is sent.
func TestSandboxChangeFieldNames(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	a, gw := sb.App, sb.URL
	changes := gw + "/v1/sandbox/sandbox-wscrm/changes"

	for _, body := range []map[string]any{
		{"whatsapp": "8615601882491", "field": "Address", "to": "123123"},
		{"whatsapp": "8615601882491", "field": "Faction", "to": "Royal Family"},
	} {
		if r := apptest.Do(t, http.MethodPost, changes, a.DevToken, body); r.Status != http.StatusAccepted {
			t.Fatalf("change %v: %d %s, want 202", body, r.Status, r.Body)
		}
	}
	evs := listEvents(t, gw, a.DevToken, url.Values{"connection": {"sandbox-wscrm"}}).decoded(t)
	if len(evs) != 2 {
		t.Fatalf("listed %d events, want 2: %+v", len(evs), evs)
	}
	for i, want := range []struct {
		field  string
		custom bool
		to     any
	}{{"address", false, "123123"}, {"Faction", true, "Royal Family"}} {
		e := evs[i]
		if e.Type != "customer.updated" || e.Change == nil || e.Change.Field != want.field || e.Change.Custom != want.custom || e.Change.To != want.to {
			t.Errorf("event %d: %+v (change %+v), want field %q custom %v to %v", i, e, e.Change, want.field, want.custom, want.to)
		}
	}

	r := apptest.Do(t, http.MethodPost, changes, a.DevToken, map[string]any{"whatsapp": "8615601882491", "field": "Nonsense", "to": "x"})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("field Nonsense: %d %s, want 422", r.Status, r.Body)
	}
	var p struct {
		Detail string `json:"detail"`
		Errors []struct {
			Code, Field, Message string
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || len(p.Errors) != 1 {
		t.Fatalf("problem %s: %v", r.Body, err)
	}
	if e := p.Errors[0]; e.Code != "unknown_field" || e.Field != "field" {
		t.Errorf("issue %+v, want unknown_field on field", e)
	}
	for _, accepted := range []string{"address", "Address", "DOB", "Position", "Faction", "extensionField1", "Interests"} {
		if !strings.Contains(p.Errors[0].Message, accepted) {
			t.Errorf("the issue %q does not list %q", p.Errors[0].Message, accepted)
		}
	}
	if r := apptest.Do(t, http.MethodPost, changes, a.DevToken, map[string]any{"whatsapp": "8615601882491", "field": "phone", "to": "8615266667780"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a canonical field the webhook does not carry: %d %s, want 422", r.Status, r.Body)
	}
	if n := len(allEvents(t, gw, a.DevToken)); n != 2 {
		t.Errorf("%d events after the refused changes, want still 2", n)
	}
}
