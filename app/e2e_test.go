package app_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"crmgate/api/answer"
	"crmgate/internal/apptest"
	"crmgate/providers/nxlink"
	"crmgate/schema"
)

// gatewayFor serves a gateway of the two connections to p's simulators.
func gatewayFor(t *testing.T, p *peers) *apptest.Gateway {
	t.Helper()
	return startGW(t, gwSetup{doc: acmeDoc{
		nxURL: p.nxURL, nx: []string{"retries: 2", "field_config: {required: [name]}"},
		wsURL: p.wsURL, ws: []string{`field_config: {required: [whatsapp, owner], stages: [{label: "New customer", id: 10}, {label: "Won", id: 30}]}`},
	}.String()})
}

// A 250-record NXLink import goes out as three signed calls of 100, 100 and
// 50; the one record whose seat does not exist comes back failed at its own
// index, the rest succeeded.
func TestNXLinkBatchSplitSignedAndMappedBack(t *testing.T) {
	t.Parallel()
	p := startPeers(t)
	gw := gatewayFor(t, p)
	const bad = 137
	customers := make([]map[string]any, 250)
	for i := range customers {
		customers[i] = map[string]any{"ref": fmt.Sprintf("r%d", i), "name": fmt.Sprintf("Customer %d", i),
			"whatsapp": fmt.Sprintf("+86 152 %04d %04d", 6000+i/10000, i), "owner": "agent1@example.com"}
	}
	customers[bad]["owner"] = "ghost@example.com"
	code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp", "strict_owner": true, "customers": customers})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	checkCounts(t, a, 250)
	if a.Succeeded != 249 || a.Failed != 1 {
		t.Fatalf("succeeded %d failed %d", a.Succeeded, a.Failed)
	}
	r := a.Results[bad]
	if r.Status != answer.StatusFailed || r.Ref != "r137" || len(r.Errors) != 1 || r.Errors[0].Code != schema.CodeOwnerNotFound || r.Errors[0].ProviderCode != "12148" {
		t.Errorf("record %d: %+v", bad, r)
	}
	ids := map[string]bool{}
	for i, r := range a.Results {
		if i != bad && (r.Status != answer.StatusSucceeded || r.ProviderID == "" || ids[r.ProviderID]) {
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
	gw := gatewayFor(t, p)
	p.nx.FailNext(2)
	code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp",
		"customers": []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780"}}})
	if code != 200 || a.Succeeded != 1 || a.ProviderCalls[0].Attempts != 3 {
		t.Fatalf("status %d answer %+v", code, a)
	}
	p.nx.FailNext(3)
	_, a = post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp",
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
	gw := gatewayFor(t, p)
	p.ws.SetBusy("8615266667781")
	customers := []map[string]any{
		{"ref": "ok", "name": "Feng Changqing", "whatsapp": "+86 152 6666 7780", "owner": "kubrick101", "stage": "New customer"},
		{"ref": "busy", "name": "Li Heng", "whatsapp": "+86 152 6666 7781", "owner": "kubrick101"},
		// "Won" is configured at the gateway but not at the provider's backend.
		{"ref": "drift", "name": "Guo Ziyi", "whatsapp": "+86 152 6666 7782", "owner": "kubrick101", "stage": "Won"},
		{"ref": "invalid", "name": "No Owner", "whatsapp": "+86 152 6666 7783"},
	}
	code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-wa", "customers": customers})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	checkCounts(t, a, 4)
	want := []struct {
		status answer.Status
		code   schema.Code
		field  string
		pcode  string
	}{
		{answer.StatusSucceeded, "", "", ""},
		{answer.StatusFailed, schema.CodeRecordBusy, "", "56"},
		{answer.StatusFailed, schema.CodeInvalidOption, "stage", "15"},
		{answer.StatusFailed, schema.CodeRequired, "owner", ""},
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
