package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/config"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers"
	"crmgate/providers/nxlink"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/schema"
)

var factories = providers.Factories()

const secret = "an-hs256-secret-of-at-least-32-bytes"

// peers are the two provider simulators over real HTTP.
type peers struct {
	nx    *nxlink.Simulator
	ws    *wscrmsim.Simulator
	nxURL string
	wsURL string
}

func startPeers(t *testing.T) *peers {
	t.Helper()
	p := &peers{
		nx: nxlink.NewSimulator(nxlink.SimConfig{Accounts: []nxlink.SimAccount{{AccessKey: "fme2na3kdi3ki", AccessSecret: "s3cr3t",
			TenantID: 123, AppKey: "46oKF=os", Seats: []string{"agent1@example.com"}}}}),
		ws: wscrmsim.New(wscrmsim.Config{TenantID: 82, Token: "ws-token",
			Agents: []wscrmsim.Agent{{Account: "kubrick101", WhatsID: "86187272722"}},
			Fields: fieldconfig.Config{Stages: []fieldconfig.Option{{Label: "New customer", ID: ptr(int64(10))}}}}),
	}
	nxs := httptest.NewServer(p.nx)
	wss := httptest.NewServer(p.ws)
	t.Cleanup(nxs.Close)
	t.Cleanup(wss.Close)
	p.nxURL, p.wsURL = nxs.URL, wss.URL
	return p
}

func ptr[T any](v T) *T { return &v }

// gatewayFor builds the gateway from a configuration document naming the
// simulators, and serves it over real HTTP.
func gatewayFor(t *testing.T, p *peers) *httptest.Server {
	t.Helper()
	doc := fmt.Sprintf(`
auth: {jwt: {hs256_secret: %q}}
connections:
  - id: acme-cdp
    provider: nxlink
    base_url: %q
    access_key: fme2na3kdi3ki
    access_secret: "${NX_SECRET}"
    tenant_id: 123
    app_key: "46oKF=os"
    retries: 2
    field_config: {required: [name]}
  - id: acme-wa
    provider: wscrm
    base_url: %q
    tenant_id: 82
    token: ws-token
    field_config:
      required: [whatsapp, owner]
      stages: [{label: "New customer", id: 10}, {label: "Won", id: 30}]
`, secret, p.nxURL, p.wsURL)
	cfg, err := config.Load(strings.NewReader(doc), ".", factories, func(k string) (string, bool) {
		if k == "NX_SECRET" {
			return "s3cr3t", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Build(context.Background(), cfg, app.Options{Providers: providers.All(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv
}

func bearer(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint(auth.MintOptions{Secret: []byte(secret), Issuer: "crmgate", Audience: "crmgate", Subject: "e2e",
		Scopes: []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead}, Connections: []string{"*"}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func post(t *testing.T, url, tok string, body any) (int, gateway.Answer) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a gateway.Answer
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
	} else {
		t.Logf("answer %d: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, a
}

func checkCounts(t *testing.T, a gateway.Answer, n int) {
	t.Helper()
	if a.Total != n || len(a.Results) != n || a.Succeeded+a.Failed+a.Unknown != n {
		t.Fatalf("total %d results %d: %d+%d+%d", a.Total, len(a.Results), a.Succeeded, a.Failed, a.Unknown)
	}
	for i, r := range a.Results {
		if r.Index != i {
			t.Fatalf("result %d has index %d", i, r.Index)
		}
	}
}

// A 250-record NXLink import goes out as three signed calls of 100, 100 and
// 50; the one record whose seat does not exist comes back failed at its own
// index, the rest succeeded.
func TestNXLinkBatchSplitSignedAndMappedBack(t *testing.T) {
	t.Parallel()
	p := startPeers(t)
	srv := gatewayFor(t, p)
	const bad = 137
	customers := make([]map[string]any, 250)
	for i := range customers {
		customers[i] = map[string]any{"ref": fmt.Sprintf("r%d", i), "name": fmt.Sprintf("Customer %d", i),
			"whatsapp": fmt.Sprintf("+86 152 %04d %04d", 6000+i/10000, i), "owner": "agent1@example.com"}
	}
	customers[bad]["owner"] = "ghost@example.com"
	code, a := post(t, srv.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp", "strict_owner": true, "customers": customers})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	checkCounts(t, a, 250)
	if a.Succeeded != 249 || a.Failed != 1 {
		t.Fatalf("succeeded %d failed %d", a.Succeeded, a.Failed)
	}
	r := a.Results[bad]
	if r.Status != gateway.StatusFailed || r.Ref != "r137" || len(r.Errors) != 1 || r.Errors[0].Code != schema.CodeOwnerNotFound || r.Errors[0].ProviderCode != "12148" {
		t.Errorf("record %d: %+v", bad, r)
	}
	ids := map[string]bool{}
	for i, r := range a.Results {
		if i != bad && (r.Status != gateway.StatusSucceeded || r.ProviderID == "" || ids[r.ProviderID]) {
			t.Errorf("record %d: %+v", i, r)
		}
		ids[r.ProviderID] = true
	}
	calls := p.nx.Calls()
	if len(calls) != 3 || len(a.ProviderCalls) != 3 {
		t.Fatalf("%d calls at the provider, %d reported", len(calls), len(a.ProviderCalls))
	}
	sizes := map[int]int{}
	for _, c := range calls {
		var body struct {
			Type          int              `json:"type"`
			StrictBinding bool             `json:"strict_binding"`
			Customers     []map[string]any `json:"customers"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			t.Fatal(err)
		}
		sizes[len(body.Customers)]++
		if body.Type != 1 || !body.StrictBinding {
			t.Errorf("type %d strict_binding %v, want merge (1) and true", body.Type, body.StrictBinding)
		}
		want := nxlink.Sign("md5", "fme2na3kdi3ki", "mt", "2", c.Header.Get("ts"), c.Body, "s3cr3t")
		if got := c.Header.Get("sign"); got != want {
			t.Errorf("sign %q, want %q over the exact body", got, want)
		}
	}
	if sizes[100] != 2 || sizes[50] != 1 {
		t.Errorf("chunk sizes %v, want two of 100 and one of 50", sizes)
	}
	for _, pc := range a.ProviderCalls {
		if pc.TraceID == "" || pc.Attempts != 1 || pc.ProviderCode != "0" {
			t.Errorf("provider call %+v", pc)
		}
	}
}

// An unavailable provider is retried; once it answers, the records succeed
// and the report counts the attempts.
func TestNXLinkRetriesUnavailable(t *testing.T) {
	t.Parallel()
	p := startPeers(t)
	srv := gatewayFor(t, p)
	p.nx.FailNext(2)
	code, a := post(t, srv.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp",
		"customers": []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780"}}})
	if code != 200 || a.Succeeded != 1 || a.ProviderCalls[0].Attempts != 3 {
		t.Fatalf("status %d answer %+v", code, a)
	}
	p.nx.FailNext(3)
	_, a = post(t, srv.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp",
		"customers": []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780"}}})
	if a.Unknown != 1 || a.Results[0].Errors[0].Code != schema.CodeProviderUnavailable {
		t.Fatalf("after the retries are spent the record is unknown: %+v", a)
	}
}

// WSCRM reports per-record errors by phone: each is mapped back to the
// record with that number, whatever its position.
func TestWSCRMErrExcelMappedByPhone(t *testing.T) {
	t.Parallel()
	p := startPeers(t)
	srv := gatewayFor(t, p)
	p.ws.SetBusy("8615266667781")
	customers := []map[string]any{
		{"ref": "ok", "name": "Feng Changqing", "whatsapp": "+86 152 6666 7780", "owner": "kubrick101", "stage": "New customer"},
		{"ref": "busy", "name": "Li Heng", "whatsapp": "+86 152 6666 7781", "owner": "kubrick101"},
		// "Won" is configured at the gateway but not at the provider's backend.
		{"ref": "drift", "name": "Guo Ziyi", "whatsapp": "+86 152 6666 7782", "owner": "kubrick101", "stage": "Won"},
		{"ref": "invalid", "name": "No Owner", "whatsapp": "+86 152 6666 7783"},
	}
	code, a := post(t, srv.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-wa", "customers": customers})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	checkCounts(t, a, 4)
	want := []struct {
		status gateway.Status
		code   schema.Code
		field  string
		pcode  string
	}{
		{gateway.StatusSucceeded, "", "", ""},
		{gateway.StatusFailed, schema.CodeRecordBusy, "", "56"},
		{gateway.StatusFailed, schema.CodeInvalidOption, "stage", "15"},
		{gateway.StatusFailed, schema.CodeRequired, "owner", ""},
	}
	for i, w := range want {
		r := a.Results[i]
		if r.Status != w.status {
			t.Errorf("record %d status %s, want %s: %+v", i, r.Status, w.status, r)
			continue
		}
		if w.code == "" {
			continue
		}
		if len(r.Errors) == 0 || r.Errors[0].Code != w.code || (w.field != "" && r.Errors[0].Field != w.field) || r.Errors[0].ProviderCode != w.pcode {
			t.Errorf("record %d errors %+v, want %s on %q (provider %s)", i, r.Errors, w.code, w.field, w.pcode)
		}
	}
	if a.Results[1].RetryAfter != 60 {
		t.Errorf("busy record retry_after %d, want 60", a.Results[1].RetryAfter)
	}
	calls := p.ws.Calls()
	if len(calls) != 1 || calls[0].Header.Get("token") != "ws-token" {
		t.Fatalf("calls %+v", calls)
	}
	var body struct {
		TenantID int64            `json:"tenantId"`
		Data     []map[string]any `json:"data"`
	}
	_ = json.Unmarshal(calls[0].Body, &body)
	if body.TenantID != 82 || len(body.Data) != 3 {
		t.Errorf("sent %s: the invalid record must not be sent", calls[0].Body)
	}
}
