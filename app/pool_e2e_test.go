package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/api/answer"
	"crmgate/auth"
	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/schema"
)

// Wang Wu is the agent of the WSCRM document's import-pool example.
const (
	wangWu        = "wangwu"
	wangWuWhatsID = "8613800138000"
)

// poolFields is the WSCRM backend of the pool tests: the document's stages
// and sources with their ids, and its single-select extension field.
const poolFields = `
stages: [{label: "New customer", id: 10}, {label: "Requirement match", id: 20}]
sources: [{label: "System assignment", id: 10}, {label: "Default", id: 11}]
custom_fields:
  - {name: "Faction", type: single_select, options: ["Guanlong Group", "Royal Family"]}
  - {name: "Date", type: date}
  - {name: "Multi-select", type: multi_select, options: ["A", "B"]}
  - {name: "Numeric extension field", type: number}
`

// poolPeers are simulators with two agents (kubrick101 and Wang Wu) whose
// backend holds poolFields.
func poolPeers(t *testing.T) *peers {
	t.Helper()
	return newPeers(t, fcYAML(t, poolFields), kubrick101, wscrmsim.Agent{Account: wangWu, WhatsID: wangWuWhatsID})
}

// poolGateway serves a gateway whose acme-wa connection talks to wsURL and
// acme-cdp to p's NXLink simulator.
func poolGateway(t *testing.T, p *peers, wsURL string) *apptest.Gateway {
	t.Helper()
	return startGW(t, gwSetup{doc: acmeDoc{
		nxURL: p.nxURL, nx: []string{"field_config: {required: [name]}"},
		wsURL: wsURL, ws: []string{"provider_time_zone: Asia/Shanghai", "field_config: " + fcFlow(t, fcYAML(t, poolFields))},
	}.String()})
}

// customerPage is the answer of GET /v1/customers.
type customerPage struct {
	Connection string           `json:"connection"`
	Agent      string           `json:"agent"`
	Customers  []map[string]any `json:"customers"`
	NextCursor string           `json:"next_cursor"`
}

func listPage(t *testing.T, gw, conn, agent string, q url.Values) customerPage {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	q.Set("connection", conn)
	q.Set("agent", agent)
	r := apptest.Do(t, http.MethodGet, gw+"/v1/customers?"+q.Encode(), bearer(t), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /v1/customers?%s: %d %s", q.Encode(), r.Status, r.Body)
	}
	var p customerPage
	r.Decode(t, &p)
	return p
}

func whatsapps(list []map[string]any) []string {
	out := make([]string, 0, len(list))
	for _, c := range list {
		out = append(out, fmt.Sprint(c["whatsapp"]))
	}
	return out
}

// importCalls are the bodies of the simulator's import calls (not queries),
// by path.
func importCalls(p *peers) (paths []string, bodies [][]byte) {
	for _, c := range p.ws.Calls() {
		if c.Path != wscrmsim.PathQuery {
			paths = append(paths, c.Path)
			bodies = append(bodies, c.Body)
		}
	}
	return paths, bodies
}

// wangWuContact is one of Wang Wu's contacts as a canonical record.
func wangWuContact(phone, name string) map[string]any {
	return map[string]any{"whatsapp": phone, "owner": wangWu, "name": name, "stage": "New customer",
		"custom_fields": map[string]any{"Faction": "Royal Family"}}
}

// The WSCRM document's import-pool example run through crmgate: two
// contacts for Wang Wu, then one more. With mode replace his pool holds only
// the new one; with append it holds all three. The calls go to
// batchImportWhatsContact and batchImportAppendV2 with the single-select as
// a JSON-array string, and GET /v1/customers reads the pool back by the
// agent's WhatsApp id.
func TestImportPoolDocumentExample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode     string
		phone    string
		path     string
		golden   string
		wantPool []string
	}{
		{"replace", "861272562622", wscrmsim.PathPoolReplace, "e2e_pool_second_replace.json", []string{"861272562622"}},
		{"append", "861272562623", wscrmsim.PathPoolAppend, "e2e_pool_second_append.json", []string{"861821733142", "861272562622", "861272562623"}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			p := poolPeers(t)
			gw := poolGateway(t, p, p.wsURL)
			code, a := post(t, gw.URL+"/v1/import-pool", bearer(t), map[string]any{"connection": "acme-wa", "mode": "replace",
				"customers": []map[string]any{wangWuContact("861821733142", "Guo Ziyi"), wangWuContact("861272562622", "Li Heng")}})
			if code != http.StatusOK {
				t.Fatalf("first import: status %d", code)
			}
			checkCounts(t, a, 2)
			if a.Succeeded != 2 {
				t.Fatalf("first import: %+v", a)
			}
			if got := whatsapps(listPage(t, gw.URL, "acme-wa", wangWuWhatsID, nil).Customers); !slices.Equal(got, []string{"861821733142", "861272562622"}) {
				t.Fatalf("after the first import Wang Wu has %v", got)
			}

			code, a = post(t, gw.URL+"/v1/import-pool", bearer(t), map[string]any{"connection": "acme-wa", "mode": tc.mode,
				"customers": []map[string]any{wangWuContact(tc.phone, "Feng Changqing")}})
			if code != http.StatusOK {
				t.Fatalf("second import: status %d", code)
			}
			checkCounts(t, a, 1)
			if a.Succeeded != 1 || len(a.ProviderCalls) != 1 || a.ProviderCalls[0].Path != tc.path {
				t.Fatalf("second import: %+v", a)
			}
			page := listPage(t, gw.URL, "acme-wa", wangWuWhatsID, nil)
			if got := whatsapps(page.Customers); !slices.Equal(got, tc.wantPool) {
				t.Errorf("Wang Wu's pool %v, want %v", got, tc.wantPool)
			}
			for _, c := range page.Customers {
				if c["stage"] != "New customer" || !cmp.Equal(c["custom_fields"], map[string]any{"Faction": "Royal Family"}) {
					t.Errorf("read back %v: stage and single-select not mapped back", c)
				}
			}
			if got := p.ws.Pool(wangWu); !slices.Equal(got, slices.Sorted(slices.Values(tc.wantPool))) {
				t.Errorf("the simulator's pool %v", got)
			}
			if other := whatsapps(listPage(t, gw.URL, "acme-wa", "86187272722", nil).Customers); len(other) != 0 {
				t.Errorf("another agent sees %v: pools are per agent", other)
			}

			paths, bodies := importCalls(p)
			if d := cmp.Diff([]string{wscrmsim.PathPoolReplace, tc.path}, paths); d != "" {
				t.Fatalf("paths (-want +got):\n%s", d)
			}
			matchGolden(t, "e2e_pool_first.json", bodies[0])
			matchGolden(t, tc.golden, bodies[1])
		})
	}
}

// The query answer is mapped to canonical customers: stage and source ids
// become labels, tabList (with a nested list, as the document allows) becomes
// tags, extendMap becomes custom_fields under the configuration's types,
// yyyy/MM/dd dates become YYYY-MM-DD and chat times RFC 3339 in the
// connection's provider time zone. The request is the document's.
func TestCustomersQueryMapping(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	var (
		mu  sync.Mutex
		got []byte
	)
	answer := `{"code":200,"message":"Success","data":[
	  {"whatsId":"86187272722","name":"","sex":null,"email":"","birthday":null,"address":"","profession":"","income":"","desc":"",
	   "country":null,"stage":10,"source":10,"tabList":null,"firstChatTime":null,"lastChatTime":null,"extendMap":{"Date":"2024/07/08"}},
	  {"whatsId":"8615266667780","name":"Feng Changqing","sex":"MALE","email":"fengchangqing@tang.com","birthday":"2020/03/08",
	   "address":"Chang'an","profession":"Military Governor","income":"100 gold","desc":"1\n2","country":"CN","stage":20,"source":11,
	   "tabList":["Soldier",["Strategy","VIP"]],"firstChatTime":"2024-07-08 09:30:00","lastChatTime":"2024-07-09 18:05:01",
	   "extendMap":{"Faction":"[\"Guanlong Group\"]","Multi-select":"A,B","Numeric extension field":123,"Date":"2022-03-08"}}
	]}`
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wscrmsim.PathQuery || r.Header.Get("token") != "ws-token" {
			http.Error(w, "unexpected", http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = b
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(ws.Close)
	gw := poolGateway(t, p, ws.URL)

	r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/customers?connection=acme-wa&agent=86187272722", bearer(t), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	matchGolden(t, "e2e_query_page.json", r.Body)
	mu.Lock()
	defer mu.Unlock()
	if d := cmp.Diff(testutil.DecodeJSON(t, []byte(`{"tenantId":82,"whatsId":"86187272722"}`)), testutil.DecodeJSON(t, got)); d != "" {
		t.Errorf("query request (-want +got):\n%s", d)
	}
}

// GET /v1/customers pages with limit and cursor: five contacts at two a
// page are three pages, each cursor resuming where the last page ended; a
// cursor the endpoint did not give is a 422.
func TestCustomersPagination(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	gw := poolGateway(t, p, p.wsURL)
	var want []string
	var batch []map[string]any
	for i := range 5 {
		phone := fmt.Sprintf("86152666677%02d", 80+i)
		want = append(want, phone)
		batch = append(batch, map[string]any{"whatsapp": phone, "owner": "kubrick101", "name": fmt.Sprintf("Customer %d", i)})
	}
	if code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-wa", "customers": batch}); code != 200 || a.Succeeded != 5 {
		t.Fatalf("import: %d %+v", code, a)
	}
	var got []string
	var sizes []int
	cursor := ""
	for range 10 {
		q := url.Values{"limit": {"2"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		page := listPage(t, gw.URL, "acme-wa", "86187272722", q)
		if page.Connection != "acme-wa" || page.Agent != "86187272722" {
			t.Errorf("page names %s/%s", page.Connection, page.Agent)
		}
		sizes = append(sizes, len(page.Customers))
		got = append(got, whatsapps(page.Customers)...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(sizes, []int{2, 2, 1}) || !slices.Equal(got, want) {
		t.Errorf("pages of %v holding %v, want 2, 2, 1 holding %v", sizes, got, want)
	}
	for _, bad := range []url.Values{{"cursor": {"not-a-cursor"}}, {"cursor": {"bzotMQ"}}, {"limit": {"0"}}, {"limit": {"x"}}} {
		q := bad.Encode()
		r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/customers?connection=acme-wa&agent=86187272722&"+q, bearer(t), nil)
		pr := expectProblem(t, r, http.StatusUnprocessableEntity)
		if len(pr.Errors) != 1 || (pr.Errors[0].Field != "cursor" && pr.Errors[0].Field != "limit") {
			t.Errorf("%s: errors %+v", q, pr.Errors)
		}
	}
}

// What a connection's provider cannot do is refused for the request, as a
// 422 naming the capability or mode, with nothing sent.
func TestCapabilityRefusals(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	gw := poolGateway(t, p, p.wsURL)
	one := []map[string]any{{"name": "Li Heng", "whatsapp": "8615266667780", "owner": "kubrick101"}}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   string // in the problem's detail
	}{
		{"nxlink import pool", http.MethodPost, "/v1/import-pool", map[string]any{"connection": "acme-cdp", "mode": "replace", "customers": one}, "import_pool"},
		{"nxlink import pool append", http.MethodPost, "/v1/import-pool", map[string]any{"connection": "acme-cdp", "mode": "append", "customers": one}, "import_pool"},
		{"nxlink query", http.MethodGet, "/v1/customers?connection=acme-cdp&agent=agent1%40example.com", nil, "query"},
		{"wscrm replace", http.MethodPost, "/v1/customers", map[string]any{"connection": "acme-wa", "mode": "replace", "customers": one}, `mode "replace"`},
		{"wscrm keep_existing", http.MethodPost, "/v1/customers", map[string]any{"connection": "acme-wa", "mode": "keep_existing", "customers": one}, `mode "keep_existing"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := apptest.Do(t, tc.method, gw.URL+tc.path, bearer(t), tc.body)
			pr := expectProblem(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(pr.Detail, tc.want) || !strings.HasSuffix(pr.Type, "not-supported") {
				t.Errorf("problem %+v, want type not-supported and %q in the detail", pr, tc.want)
			}
		})
	}
	if n := len(p.nx.Calls()) + len(p.ws.Calls()); n != 0 {
		t.Errorf("%d calls reached the providers", n)
	}
}

// remove_tags cannot go to batchImportAppendV2: a warning naming it (the
// record goes without it), or with strict an error (the record is not sent).
// batchImportWhatsContact takes it as cancelTabName.
func TestRemoveTagsOnPoolAppend(t *testing.T) {
	t.Parallel()
	rec := map[string]any{"whatsapp": "8615266667780", "owner": wangWu, "name": "Li Heng", "tags": []string{"Prince Zhong", "Retake Two Capitals"},
		"remove_tags": []string{"Prince Zhong"}}
	tests := []struct {
		mode    string
		strict  bool
		status  answer.Status
		warns   []issueKey
		errs    []issueKey
		sent    bool
		cancels bool
	}{
		{"append", false, answer.StatusSucceeded, []issueKey{{schema.CodeUnsupportedField, "remove_tags"}}, nil, true, false},
		{"append", true, answer.StatusFailed, nil, []issueKey{{schema.CodeUnsupportedField, "remove_tags"}}, false, false},
		{"replace", true, answer.StatusSucceeded, nil, nil, true, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s strict=%v", tc.mode, tc.strict), func(t *testing.T) {
			t.Parallel()
			p := poolPeers(t)
			gw := poolGateway(t, p, p.wsURL)
			code, a := post(t, gw.URL+"/v1/import-pool", bearer(t), map[string]any{"connection": "acme-wa", "mode": tc.mode, "strict": tc.strict,
				"customers": []map[string]any{rec}})
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			checkCounts(t, a, 1)
			r := a.Results[0]
			if r.Status != tc.status {
				t.Fatalf("status %s, want %s: %+v", r.Status, tc.status, r)
			}
			if d := cmp.Diff(tc.warns, issueKeys(r.Warnings), cmpEmpty); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.errs, issueKeys(r.Errors), cmpEmpty); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
			_, bodies := importCalls(p)
			if !tc.sent {
				if len(bodies) != 0 {
					t.Errorf("sent %s", bodies)
				}
				return
			}
			if len(bodies) != 1 {
				t.Fatalf("%d calls", len(bodies))
			}
			var body struct {
				Data []map[string]any `json:"data"`
			}
			if err := json.Unmarshal(bodies[0], &body); err != nil || len(body.Data) != 1 {
				t.Fatalf("body %s", bodies[0])
			}
			cancel, has := body.Data[0]["cancelTabName"]
			if has != tc.cancels || (has && cancel != "Prince Zhong") {
				t.Errorf("cancelTabName %v (present %v) in %s", cancel, has, bodies[0])
			}
		})
	}
}

// cmpEmpty treats a nil and an empty list as equal.
var cmpEmpty = cmp.Comparer(func(a, b []issueKey) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
})

// GET /v1/connections lists the connections the token allows, each with
// what its provider can do and its circuit (closed, never called yet).
func TestConnectionsCapabilities(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	gw := poolGateway(t, p, p.wsURL)
	nx := map[string]any{"id": "acme-cdp", "provider": "nxlink", "capabilities": map[string]any{
		"import": true, "import_pool": false, "query": false, "webhooks": false,
		"modes": []any{"merge", "replace", "keep_existing"}, "custom_fields": []any{}},
		"circuit": map[string]any{"state": "closed"}}
	ws := map[string]any{"id": "acme-wa", "provider": "wscrm", "capabilities": map[string]any{
		"import": true, "import_pool": true, "query": true, "webhooks": true,
		"modes": []any{"merge"}, "custom_fields": []any{"Faction", "Date", "Multi-select", "Numeric extension field"}},
		"circuit": map[string]any{"state": "closed"}}
	tests := []struct {
		name  string
		conns []string
		want  []any
	}{
		{"every connection", []string{auth.AllConnections}, []any{nx, ws}},
		{"wscrm only", []string{"acme-wa"}, []any{ws}},
		{"nxlink only", []string{"acme-cdp"}, []any{nx}},
		{"unknown only", []string{"acme-other"}, []any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Any scope will do: listing connections needs none in particular.
			tok := scopedToken(t, []string{auth.ScopeEventsRead}, tc.conns...)
			r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/connections", tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			want := map[string]any{"connections": tc.want}
			if d := cmp.Diff(want, testutil.DecodeJSON(t, r.Body)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// NXLink's type follows the request's mode (merge 1, replace 0,
// keep_existing 2) and strict_binding its strict_owner.
func TestNXLinkModeAndStrictOwnerOnTheWire(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	gw := poolGateway(t, p, p.wsURL)
	tests := []struct {
		mode        string
		strictOwner bool
		wantType    int
	}{
		{"", false, 1},
		{"merge", true, 1},
		{"replace", false, 0},
		{"replace", true, 0},
		{"keep_existing", false, 2},
		{"keep_existing", true, 2},
	}
	for i, tc := range tests {
		body := map[string]any{"connection": "acme-cdp", "strict_owner": tc.strictOwner, "customers": []map[string]any{
			{"name": "Li Heng", "whatsapp": fmt.Sprintf("86152666677%02d", i), "owner": "agent1@example.com"}}}
		if tc.mode != "" {
			body["mode"] = tc.mode
		}
		code, a := post(t, gw.URL+"/v1/customers", bearer(t), body)
		if code != http.StatusOK || a.Succeeded != 1 {
			t.Fatalf("mode %q: %d %+v", tc.mode, code, a)
		}
		calls := p.nx.Calls()
		if len(calls) != i+1 {
			t.Fatalf("%d calls after %d imports", len(calls), i+1)
		}
		var sent struct {
			Type          *int  `json:"type"`
			StrictBinding *bool `json:"strict_binding"`
		}
		if err := json.Unmarshal(calls[i].Body, &sent); err != nil || sent.Type == nil || sent.StrictBinding == nil {
			t.Fatalf("body %s", calls[i].Body)
		}
		if *sent.Type != tc.wantType || *sent.StrictBinding != tc.strictOwner {
			t.Errorf("mode %q strict_owner %v: type %d strict_binding %v, want %d %v", tc.mode, tc.strictOwner,
				*sent.Type, *sent.StrictBinding, tc.wantType, tc.strictOwner)
		}
	}
}

// Without strict_owner an unknown seat fails the whole call (the document's
// third example: top-level code 12148, data null): every record of that
// chunk is failed owner_not_found with provider code 12148, and the other
// chunk is not affected.
func TestNXLinkUnknownSeatFailsWholeChunk(t *testing.T) {
	t.Parallel()
	p := poolPeers(t)
	gw := poolGateway(t, p, p.wsURL)
	const ghost = 120
	batch := make([]map[string]any, 150)
	for i := range batch {
		batch[i] = map[string]any{"name": fmt.Sprintf("Customer %d", i), "whatsapp": fmt.Sprintf("+86 152 6000 %04d", i), "owner": "agent1@example.com"}
	}
	batch[ghost]["owner"] = "agent9@example.com"
	code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp", "strict_owner": false, "customers": batch})
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	checkCounts(t, a, 150)
	if a.Succeeded != 100 || a.Failed != 50 {
		t.Errorf("succeeded %d failed %d, want 100 and 50", a.Succeeded, a.Failed)
	}
	for i, r := range a.Results {
		if i < 100 {
			if r.Status != answer.StatusSucceeded {
				t.Errorf("record %d of the first chunk: %+v", i, r)
			}
			continue
		}
		if r.Status != answer.StatusFailed || len(r.Errors) != 1 || r.Errors[0].Code != schema.CodeOwnerNotFound || r.Errors[0].ProviderCode != "12148" {
			t.Errorf("record %d of the second chunk: %+v", i, r)
		}
	}
	codes := map[string]int{}
	for _, c := range a.ProviderCalls {
		codes[c.ProviderCode] += c.Records
	}
	if codes["0"] != 100 || codes["12148"] != 50 {
		t.Errorf("provider calls %+v", a.ProviderCalls)
	}
	for _, c := range p.nx.Calls() {
		var sent struct {
			StrictBinding bool `json:"strict_binding"`
		}
		_ = json.Unmarshal(c.Body, &sent)
		if sent.StrictBinding {
			t.Errorf("strict_binding true without strict_owner")
		}
	}
	if n := len(p.nx.Customers()); n != 100 {
		t.Errorf("the provider stored %d customers, want the first chunk's 100", n)
	}
}
