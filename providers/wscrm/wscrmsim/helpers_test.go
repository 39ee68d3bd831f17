package wscrmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	_ "time/tzdata" // the golden times are in Asia/Shanghai wherever the tests run

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/wiretest"
	"crmgate/providers/wscrm"
	"crmgate/schema"
	"crmgate/secret"
)

var importOp = gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}

// sampleRules are the sandbox's field rules.
func sampleRules() *fieldconfig.Rules { return fieldconfig.MustCompile(SampleFieldConfig()) }

// adapterAgents are SandboxAgents as a connection lists them.
func adapterAgents() []wscrm.Agent {
	var out []wscrm.Agent
	for _, a := range SandboxAgents {
		out = append(out, wscrm.Agent{Account: a.Account, WhatsID: a.WhatsID})
	}
	return out
}

// testAdapter is an adapter of tenant tenant pointed at base.
func testAdapter(t *testing.T, base, token string, tenant int64) *wscrm.Adapter {
	t.Helper()
	a, err := wscrm.New(gateway.Common{ID: "test-wscrm", Provider: wscrm.Name, BaseURL: base},
		&wscrm.Config{TenantID: tenant, Token: secret.Value(token), ProviderTimeZone: "Asia/Shanghai", Agents: adapterAgents()},
		&http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// simServer starts a simulator of tenant 82 with the sample backend behind
// an httptest server on loopback, and an adapter that talks to it.
func simServer(t *testing.T, token string) (*wscrm.Adapter, *Simulator) {
	t.Helper()
	sim := New(Config{TenantID: 82, Token: token, Agents: SandboxAgents, Fields: SampleFieldConfig()})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return testAdapter(t, srv.URL, token, 82), sim
}

// postSim posts body to the simulator's path and decodes the answer.
func postSim(t *testing.T, h http.Handler, path, token string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("token", token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var ans map[string]any
	d := json.NewDecoder(w.Body)
	d.UseNumber()
	if err := d.Decode(&ans); err != nil && w.Code == http.StatusOK {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return w.Code, ans
}

// poolImport sends phones as one import-pool call of agent through the
// adapter and requires every record to succeed.
func poolImport(t *testing.T, a *wscrm.Adapter, kind, agent string, phones ...string) {
	t.Helper()
	op := gateway.Op{Kind: kind}
	var cs []schema.Customer
	for _, p := range phones {
		cs = append(cs, schema.Customer{Owner: agent, WhatsApp: p, Name: "contact " + p})
	}
	res, err := wiretest.DoOne(t, a, op, wiretest.Records(t, a, op, sampleRules(), cs...))
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range res.Outcomes {
		if o.Status != gateway.StatusSucceeded {
			t.Fatalf("%s record %d: %+v", kind, i, o)
		}
	}
}

// queryPhones lists the WhatsApp numbers the query answers for agent.
func queryPhones(t *testing.T, a *wscrm.Adapter, agent string) []string {
	t.Helper()
	cs, _, err := a.Query(context.Background(), agent, sampleRules())
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, c := range cs {
		out = append(out, c.WhatsApp)
	}
	return out
}
