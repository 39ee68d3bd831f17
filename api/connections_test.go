package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// GET /v1/connections shows each connection's circuit: closed and never
// called at first, then the time of the last answered call.
func TestConnectionsShowCircuit(t *testing.T) {
	t.Parallel()
	srv, _ := newTestServer(t, 1<<20)
	tok := token(t, nil, nil, nil)
	list := func() ConnectionInfo {
		t.Helper()
		w := do(t, srv, call{method: "GET", path: "/v1/connections", token: tok})
		var got struct{ Connections []ConnectionInfo }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got.Connections) != 1 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"circuit":{"state":"closed"`) {
			t.Errorf("no circuit in %s", w.Body)
		}
		return got.Connections[0]
	}
	if c := list().Circuit; c.State != "closed" || c.LastSuccessAt != nil || c.LastFailureAt != nil {
		t.Fatalf("before any call: %+v", c)
	}
	w := do(t, srv, call{path: "/v1/customers", ctype: "application/json", token: tok,
		body: strings.NewReader(`{"customers":[{"whatsapp":"+86 152 6666 7780"}]}`)})
	if w.Code != 200 {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	if c := list().Circuit; c.State != "closed" || c.LastSuccessAt == nil || c.LastFailureAt != nil {
		t.Fatalf("after an answered call: %+v", c)
	}
}
