package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
)

// startSandbox serves the no-config sandbox, its background work running,
// until the test ends.
func startSandbox(t *testing.T) *apptest.Gateway {
	t.Helper()
	return startGW(t, gwSetup{run: true})
}

// appToken mints a token of the sandbox's secret for app sub on
// sandbox-wscrm.
func appToken(t *testing.T, sb *apptest.Gateway, sub string, scopes ...string) string {
	t.Helper()
	return sb.Token(t, sub, scopes, "sandbox-wscrm")
}

type historyEntry struct {
	At         time.Time         `json:"at"`
	RequestID  string            `json:"request_id"`
	JobID      string            `json:"job_id"`
	Index      int               `json:"index"`
	Status     string            `json:"status"`
	Errors     []json.RawMessage `json:"errors"`
	ProviderID string            `json:"provider_id"`
}

type historyPage struct {
	History    []historyEntry `json:"history"`
	NextCursor *string        `json:"next_cursor"`
}

func readHistory(t *testing.T, gw, tok string, q url.Values) historyPage {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, gw+"/v1/customers/history?"+q.Encode(), tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("history %v: %d %s", q, r.Status, r.Body)
	}
	var p historyPage
	if err := json.Unmarshal(r.Body, &p); err != nil || p.History == nil || p.NextCursor == nil {
		t.Fatalf("history %v: %s (%v)", q, r.Body, err)
	}
	return p
}

// A customer imported three times (one failure, two successes) has the three
// results in its history, newest first, found by its number as typed in any
// way and by its ref; GET /v1/requests/{id} answers each import's answer
// byte for byte. Another app sees neither unless it is admin.
func TestCustomerHistoryAndRequestLookup(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	gw := sb.URL
	billing := appToken(t, sb, "billing", auth.ScopeCustomersWrite, auth.ScopeCustomersRead)
	crm := appToken(t, sb, "crm", auth.ScopeCustomersWrite, auth.ScopeCustomersRead)
	admin := appToken(t, sb, "ops", auth.ScopeCustomersRead, auth.ScopeAdmin)

	record := func(owner string) map[string]any {
		r := map[string]any{"ref": "crm-17", "name": "Li Heng", "whatsapp": "+86 152 6666 7780"}
		if owner != "" {
			r["owner"] = owner
		}
		return r
	}
	other := map[string]any{"ref": "crm-18", "name": "Wu Di", "owner": "kubrick101", "whatsapp": "8613800138000"}
	bodies := []map[string]any{
		{"connection": "sandbox-wscrm", "customers": []any{other, record("")}},    // owner is required: failed
		{"connection": "sandbox-wscrm", "customers": []any{record("kubrick101")}}, // succeeded
		{"connection": "sandbox-wscrm", "customers": []any{record("kubrick101"), other}},
	}
	wantStatus := []string{"failed", "succeeded", "succeeded"}
	wantIndex := []int{1, 0, 0}
	var ids []string
	var answers [][]byte
	for i, b := range bodies {
		r := apptest.Do(t, http.MethodPost, gw+"/v1/customers", billing, b)
		if r.Status != http.StatusOK {
			t.Fatalf("import %d: %d %s", i, r.Status, r.Body)
		}
		var ans struct {
			RequestID string `json:"request_id"`
			Results   []struct {
				Status string `json:"status"`
			} `json:"results"`
		}
		if err := json.Unmarshal(r.Body, &ans); err != nil || ans.Results[wantIndex[i]].Status != wantStatus[i] {
			t.Fatalf("import %d answered %s, want record %d %s", i, r.Body, wantIndex[i], wantStatus[i])
		}
		ids, answers = append(ids, ans.RequestID), append(answers, r.Body)
	}
	// A validation is not an import: neither looked up nor in the history.
	r := apptest.Do(t, http.MethodPost, gw+"/v1/customers/validate", billing, bodies[1])
	var validated struct {
		RequestID string `json:"request_id"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &validated) != nil {
		t.Fatalf("validate: %d %s", r.Status, r.Body)
	}

	for _, q := range []url.Values{
		{"connection": {"sandbox-wscrm"}, "whatsapp": {"8615266667780"}},
		{"connection": {"sandbox-wscrm"}, "whatsapp": {"+86 152-6666-7780"}},
		{"whatsapp": {"0086 152 6666 7780"}}, // the token's only connection
		{"connection": {"sandbox-wscrm"}, "ref": {"crm-17"}},
	} {
		got := readHistory(t, gw, billing, q).History
		if len(got) != 3 {
			t.Fatalf("history %v: %+v, want 3 entries", q, got)
		}
		for i, e := range got {
			k := 2 - i // newest first
			if e.RequestID != ids[k] || e.Status != wantStatus[k] || e.Index != wantIndex[k] || e.JobID != "" || e.At.IsZero() {
				t.Errorf("history %v [%d] = %+v, want request %s record %d %s", q, i, e, ids[k], wantIndex[k], wantStatus[k])
			}
			if (e.Status == "failed") != (len(e.Errors) > 0) {
				t.Errorf("history %v [%d]: status %s with errors %s", q, i, e.Status, e.Errors)
			}
		}
		if got[0].At.Before(got[1].At) || got[1].At.Before(got[2].At) {
			t.Errorf("history %v not newest first: %v %v %v", q, got[0].At, got[1].At, got[2].At)
		}
	}
	// Paged: one at a time, the same three in the same order.
	var paged []string
	q := url.Values{"connection": {"sandbox-wscrm"}, "whatsapp": {"8615266667780"}, "limit": {"1"}}
	for range 4 {
		p := readHistory(t, gw, billing, q)
		for _, e := range p.History {
			paged = append(paged, e.RequestID)
		}
		if *p.NextCursor == "" {
			break
		}
		q.Set("cursor", *p.NextCursor)
	}
	if len(paged) != 3 || paged[0] != ids[2] || paged[1] != ids[1] || paged[2] != ids[0] {
		t.Errorf("paged %v, want %v reversed", paged, ids)
	}

	// The answers, byte for byte, to the app that made them and to admin.
	for i, id := range ids {
		for _, tok := range []string{billing, admin} {
			r := apptest.Do(t, http.MethodGet, gw+"/v1/requests/"+id, tok, nil)
			if r.Status != http.StatusOK || !bytes.Equal(r.Body, answers[i]) {
				t.Errorf("GET /v1/requests/%s: %d\n%s\nwant the import's answer\n%s", id, r.Status, r.Body, answers[i])
			}
		}
		if r := apptest.Do(t, http.MethodGet, gw+"/v1/requests/"+id, crm, nil); r.Status != http.StatusNotFound {
			t.Errorf("another app's request %s: %d %s, want 404", id, r.Status, r.Body)
		}
	}
	for _, id := range []string{validated.RequestID, "no-such-request"} {
		if r := apptest.Do(t, http.MethodGet, gw+"/v1/requests/"+id, billing, nil); r.Status != http.StatusNotFound {
			t.Errorf("GET /v1/requests/%s: %d %s, want 404", id, r.Status, r.Body)
		}
	}

	// Another app sees none of billing's entries; admin sees them all.
	if got := readHistory(t, gw, crm, url.Values{"whatsapp": {"8615266667780"}}).History; len(got) != 0 {
		t.Errorf("app crm sees billing's history: %+v", got)
	}
	if got := readHistory(t, gw, admin, url.Values{"whatsapp": {"8615266667780"}}).History; len(got) != 3 {
		t.Errorf("admin sees %d entries, want 3", len(got))
	}
	if r := apptest.Do(t, http.MethodPost, gw+"/v1/customers", crm, bodies[1]); r.Status != http.StatusOK {
		t.Fatalf("crm's import: %d %s", r.Status, r.Body)
	}
	if got := readHistory(t, gw, crm, url.Values{"whatsapp": {"8615266667780"}}).History; len(got) != 1 {
		t.Errorf("app crm sees %d entries, want its own one", len(got))
	}
	if got := readHistory(t, gw, billing, url.Values{"whatsapp": {"8615266667780"}}).History; len(got) != 3 {
		t.Errorf("app billing sees %d entries, want its own three", len(got))
	}

	for _, bad := range []struct {
		q    url.Values
		tok  string
		want int
	}{
		{url.Values{"connection": {"sandbox-wscrm"}}, billing, http.StatusUnprocessableEntity},
		{url.Values{"whatsapp": {"call me"}}, billing, http.StatusUnprocessableEntity},
		{url.Values{"whatsapp": {"8615266667780"}, "ref": {"crm-17"}}, billing, http.StatusUnprocessableEntity},
		{url.Values{"whatsapp": {"8615266667780"}, "limit": {"1001"}}, billing, http.StatusUnprocessableEntity},
		{url.Values{"whatsapp": {"8615266667780"}, "cursor": {"nope"}}, billing, http.StatusUnprocessableEntity},
		{url.Values{"connection": {"sandbox-nxlink"}, "whatsapp": {"8615266667780"}}, billing, http.StatusForbidden},
		{url.Values{"whatsapp": {"8615266667780"}}, appToken(t, sb, "writer", auth.ScopeCustomersWrite), http.StatusForbidden},
	} {
		if r := apptest.Do(t, http.MethodGet, gw+"/v1/customers/history?"+bad.q.Encode(), bad.tok, nil); r.Status != bad.want {
			t.Errorf("history %v: %d %s, want %d", bad.q, r.Status, r.Body, bad.want)
		}
	}
}

// Two gateways on one Redis share the history: an import answered by one is
// looked up, byte for byte, on the other, and the customer's history read on
// either lists both gateways' imports newest first.
func TestHistorySharedByInstancesThroughRedis(t *testing.T) {
	t.Parallel()
	redisURL, prefix := sharedRedis(t)
	p := fcPeers(t)
	setup := gwSetup{doc: fcConfig(t, p), redis: redisURL, options: app.Options{RedisPrefix: prefix}}
	one, two := startGW(t, setup), startGW(t, setup)
	tok := scopedToken(t, []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead}, "acme-wa")

	rec := map[string]any{"ref": "r-9", "name": "Guo Ziyi", "whatsapp": "+86 152 6666 7782", "owner": "kubrick101"}
	bad := map[string]any{"ref": "r-9", "name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}
	var ids []string
	var answers [][]byte
	for i, step := range []struct {
		gw     *apptest.Gateway
		record map[string]any
		want   string
	}{{one, bad, "failed"}, {two, rec, "succeeded"}} {
		r := apptest.Do(t, http.MethodPost, step.gw.URL+"/v1/customers", tok, map[string]any{"connection": "acme-wa", "customers": []any{step.record}})
		var ans struct {
			RequestID string `json:"request_id"`
			Results   []struct {
				Status string `json:"status"`
			} `json:"results"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &ans) != nil || len(ans.Results) != 1 || ans.Results[0].Status != step.want {
			t.Fatalf("import %d: %d %s, want one record %s", i, r.Status, r.Body, step.want)
		}
		ids, answers = append(ids, ans.RequestID), append(answers, r.Body)
	}
	for i, gw := range []*apptest.Gateway{two, one} {
		r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/requests/"+ids[i], tok, nil)
		if r.Status != http.StatusOK || !bytes.Equal(r.Body, answers[i]) {
			t.Errorf("the other gateway's request %s: %d %s, want its answer byte for byte", ids[i], r.Status, r.Body)
		}
	}
	for _, gw := range []*apptest.Gateway{one, two} {
		got := readHistory(t, gw.URL, tok, url.Values{"whatsapp": {"8615266667782"}}).History
		if len(got) != 2 || got[0].RequestID != ids[1] || got[0].Status != "succeeded" || got[1].RequestID != ids[0] || got[1].Status != "failed" {
			t.Errorf("history on %s: %+v, want %s succeeded then %s failed", gw.URL, got, ids[1], ids[0])
		}
	}
}

// A record the strict decoder refuses (a value of the wrong type) is still
// in its customer's history, under its number as typed and its ref.
func TestHistoryOfARecordLeftRaw(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	gw := sb.URL
	tok := appToken(t, sb, "billing", auth.ScopeCustomersWrite, auth.ScopeCustomersRead)
	body := []byte(`{"connection":"sandbox-wscrm","customers":[{"ref":"raw-1","name":"Li Heng","owner":"kubrick101","whatsapp":"+86 152 6666 7781","level":"high"}]}`)
	if r := apptest.Do(t, http.MethodPost, gw+"/v1/customers", tok, body); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"status":"failed"`)) {
		t.Fatalf("import: %d %s, want the record failed", r.Status, r.Body)
	}
	for _, q := range []url.Values{{"whatsapp": {"8615266667781"}}, {"ref": {"raw-1"}}} {
		got := readHistory(t, gw, tok, q).History
		if len(got) != 1 || got[0].Status != "failed" || len(got[0].Errors) == 0 {
			t.Errorf("history %v: %+v, want the failed record", q, got)
		}
	}
}

// A job's rows join their customers' history: a customer imported through
// POST /v1/customers and then, with a national number, through an import
// job reads back newest first, the job's entry naming the job.
func TestCustomerHistoryIncludesJobRows(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t)
	gw := sb.URL
	tok := appToken(t, sb, "billing", auth.ScopeCustomersWrite, auth.ScopeCustomersRead)
	rec := map[string]any{"ref": "crm-21", "name": "Li Heng", "owner": "kubrick101", "whatsapp": "+86 152 6666 7790"}
	if r := apptest.Do(t, http.MethodPost, gw+"/v1/customers", tok, map[string]any{"connection": "sandbox-wscrm", "customers": []any{rec}}); r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	national := map[string]any{"ref": "crm-21", "name": "Li Heng", "owner": "kubrick101", "whatsapp": "152 6666 7790"}
	bad := map[string]any{"ref": "crm-21", "name": "Li Heng", "whatsapp": "152 6666 7790"} // no owner: failed
	r := apptest.Do(t, http.MethodPost, gw+"/v1/imports", tok, map[string]any{"connection": "sandbox-wscrm", "default_region": "CN", "dedupe": false,
		"customers": []any{national, bad}})
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if r.Status != http.StatusAccepted || json.Unmarshal(r.Body, &job) != nil {
		t.Fatalf("POST /v1/imports: %d %s", r.Status, r.Body)
	}
	testutil.Eventually(t, 30*time.Second, "the job to complete", func() bool {
		r := apptest.Do(t, http.MethodGet, gw+"/v1/imports/"+job.ID, tok, nil)
		return json.Unmarshal(r.Body, &job) == nil && job.Status == "completed"
	})
	var got []historyEntry
	testutil.Eventually(t, 10*time.Second, "the job's rows in the history", func() bool {
		got = readHistory(t, gw, tok, url.Values{"connection": {"sandbox-wscrm"}, "whatsapp": {"8615266667790"}}).History
		return len(got) == 3
	})
	// Newest first: the job's two rows (same moment; the later row first
	// or not, both name the job), then the import.
	statuses := map[string]bool{}
	for _, e := range got[:2] {
		if e.JobID != job.ID || e.RequestID != "" {
			t.Errorf("a job row's entry: %+v, want job %s", e, job.ID)
		}
		statuses[e.Status] = true
	}
	if !statuses["succeeded"] || !statuses["failed"] {
		t.Errorf("the job's rows: %+v", got[:2])
	}
	if got[2].JobID != "" || got[2].RequestID == "" || got[2].Status != "succeeded" {
		t.Errorf("the import's entry: %+v", got[2])
	}
}
