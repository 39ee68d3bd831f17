package wscrmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/internal/testutil"
	"crmgate/providers/internal/wiretest"
	"crmgate/providers/wscrm"
	"crmgate/schema"
)

func TestSimulatorRecordChecks(t *testing.T) {
	t.Parallel()
	ok := map[string]any{"agentAccount": "kubrick101", "whatsApp": "8615266667780"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		path string
		rec  map[string]any
		code int // 0: accepted
	}{
		{"valid", PathBatchImport, ok, 0},
		{"no agent", PathBatchImport, with("agentAccount", ""), 22},
		{"whatsApp empty", PathBatchImport, with("whatsApp", ""), 29},
		{"whatsApp not numeric", PathBatchImport, with("whatsApp", "+86 152"), 28},
		{"sex", PathBatchImport, with("sex", "MALE"), 10},
		{"sex unknown", PathBatchImport, with("sex", "unknown"), 0},
		{"birthday dashes", PathBatchImport, with("birthday", "2020-03-08"), 24},
		{"birthday slashes", PathBatchImport, with("birthday", "2020/03/08"), 0},
		{"stage", PathBatchImport, with("stage", "Emperor"), 15},
		{"source", PathBatchImport, with("source", "Nowhere"), 14},
		{"language", PathBatchImport, with("languageTag", "Klingon"), 16},
		{"number", PathBatchImport, with("Level", "many"), 23},
		{"number as JSON number", PathBatchImport, with("Level", 12.5), 0},
		{"ext date", PathBatchImport, with("Joined", "08.03.2022"), 24},
		{"ext date dashes", PathBatchImport, with("Joined", "2022-03-08"), 0},
		{"time", PathBatchImport, with("Meeting", "12:00"), 25},
		{"single-select plain on batchImport", PathBatchImport, with("Faction", "Royal Family"), 0},
		{"single-select array on batchImport", PathBatchImport, with("Faction", `["Royal Family"]`), 26},
		{"single-select unknown", PathBatchImport, with("Faction", "Rebels"), 26},
		{"single-select array on pool", PathPoolReplace, with("Faction", `["Royal Family"]`), 0},
		{"single-select plain on pool", PathPoolReplace, with("Faction", "Royal Family"), 26},
		{"single-select two on pool", PathPoolAppend, with("Faction", `["Royal Family","Guanlong Group"]`), 26},
		{"multi-select", PathBatchImport, with("Interests", "Archery,Poetry"), 0},
		{"multi-select unknown", PathBatchImport, with("Interests", "Archery,Golf"), 27},
		{"too long", PathBatchImport, with("extensionField1", strings.Repeat("x", 65)), 21},
		{"attachments", PathBatchImport, with("Attachment", strings.TrimSuffix(strings.Repeat("http://a.img,", 10), ",")), 0},
		{"too many attachments", PathBatchImport, with("Attachment", strings.TrimSuffix(strings.Repeat("http://a.img,", 11), ",")), 58},
		{"bad attachment URL", PathBatchImport, with("Attachment", "ftp://a.img"), 59},
		{"busy", PathBatchImport, with("whatsApp", "8615266667799"), 56},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := New(Config{TenantID: 82, Agents: SandboxAgents, Fields: SampleFieldConfig()})
			sim.SetBusy("8615266667799")
			_, ans := postSim(t, sim, tt.path, "", map[string]any{"tenantId": 82, "data": []any{tt.rec}})
			if ans["code"] != json.Number("200") || ans["message"] != "Success" {
				t.Fatalf("answer = %v", ans)
			}
			data := ans["data"].(map[string]any)
			errExcel := data["errExcel"].([]any)
			if tt.code == 0 {
				if len(errExcel) != 0 || data["successCount"] != json.Number("1") || data["errCount"] != json.Number("0") {
					t.Fatalf("data = %v, want accepted", data)
				}
				return
			}
			if len(errExcel) != 1 || data["successCount"] != json.Number("0") || data["errCount"] != json.Number("1") {
				t.Fatalf("data = %v, want one error", data)
			}
			e := errExcel[0].(map[string]any)
			if e["errCode"] != json.Number(fmt.Sprint(tt.code)) || e["errPhone"] != tt.rec["whatsApp"] || e["errInfo"] == "" {
				t.Fatalf("errExcel = %v, want code %d for %v", e, tt.code, tt.rec["whatsApp"])
			}
		})
	}
}

func TestSimulatorWholeCallAnswers(t *testing.T) {
	t.Parallel()
	rec := map[string]any{"agentAccount": "kubrick101", "whatsApp": "8615266667780"}
	many := make([]any, MaxRecords+1)
	for i := range many {
		many[i] = rec
	}
	tests := []struct {
		name, token string
		body        any
		code        string
		msg         string
	}{
		{"no token", "", map[string]any{"tenantId": 82, "data": []any{rec}}, "-1", "token error"},
		{"wrong token", "x", map[string]any{"tenantId": 82, "data": []any{rec}}, "-1", "token error"},
		{"no tenant", "t", map[string]any{"data": []any{rec}}, "-1", "TenantId Is Null"},
		{"other tenant", "t", map[string]any{"tenantId": 83, "data": []any{rec}}, "-1", "token error"},
		{"no data", "t", map[string]any{"tenantId": 82, "data": []any{}}, "-1", "Data Is Null"},
		{"too many", "t", map[string]any{"tenantId": 82, "data": many}, "19", "Exceeded 10,000 record limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := New(Config{TenantID: 82, Token: "t", Fields: SampleFieldConfig()})
			status, ans := postSim(t, sim, PathBatchImport, tt.token, tt.body)
			if status != 200 || ans["code"] != json.Number(tt.code) || ans["message"] != tt.msg || ans["msg"] != tt.msg || ans["data"] != nil {
				t.Fatalf("HTTP %d %v, want code %s %q", status, ans, tt.code, tt.msg)
			}
		})
	}
	sim := New(Config{TenantID: 82})
	if status, _ := postSim(t, sim, "/wscrm-bus-api/other", "", map[string]any{}); status != http.StatusNotFound {
		t.Errorf("unknown path: HTTP %d", status)
	}
	req := httptest.NewRequest(http.MethodGet, PathQuery, nil)
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", w.Code)
	}
}

// TestSimulatorImportPool follows the provider document's Wang Wu examples.
func TestSimulatorImportPool(t *testing.T) {
	t.Parallel()
	t.Run("replace overwrites the agent's pool", func(t *testing.T) {
		t.Parallel()
		a, sim := simServer(t, "")
		poolImport(t, a, gateway.KindPoolReplace, "kubrick101", "8615266667780")
		poolImport(t, a, gateway.KindPoolReplace, "wangwu", "861821733142", "861272562622")
		poolImport(t, a, gateway.KindPoolReplace, "wangwu", "861272562622")
		if got := sim.Pool("wangwu"); !reflect.DeepEqual(got, []string{"861272562622"}) {
			t.Fatalf("Wang Wu's pool = %v, want only 861272562622", got)
		}
		if got := queryPhones(t, a, "wangwu"); !reflect.DeepEqual(got, []string{"861272562622"}) {
			t.Fatalf("query = %v", got)
		}
		if got := queryPhones(t, a, "86187272722"); !reflect.DeepEqual(got, []string{"8615266667780"}) {
			t.Fatalf("another agent's pool changed: %v", got)
		}
	})
	t.Run("append adds", func(t *testing.T) {
		t.Parallel()
		a, sim := simServer(t, "")
		poolImport(t, a, gateway.KindPoolReplace, "wangwu", "861821733142", "861272562622")
		poolImport(t, a, gateway.KindPoolAppend, "wangwu", "861272562623")
		poolImport(t, a, gateway.KindPoolAppend, "wangwu", "861272562622") // the same number overwrites its entry
		want := []string{"861272562622", "861272562623", "861821733142"}
		if got := sim.Pool("wangwu"); !reflect.DeepEqual(got, want) {
			t.Fatalf("Wang Wu's pool = %v, want %v", got, want)
		}
		if got := queryPhones(t, a, "861821733100"); !reflect.DeepEqual(got, []string{"861821733142", "861272562622", "861272562623"}) {
			t.Fatalf("query = %v", got)
		}
	})
}

// TestImportQueryRoundTrip imports canonical records through the adapter and
// reads them back with the query: what went in comes out.
func TestImportQueryRoundTrip(t *testing.T) {
	t.Parallel()
	a, _ := simServer(t, "tok")
	rules := sampleRules()
	in := wiretest.Prepared(t, schema.Customer{
		Owner: "kubrick101", WhatsApp: "+86 152 6666 7780", Name: "Feng Changqing", Gender: "male",
		Birthday: "2020-03-08", Address: "Chang'an", Email: "fengchangqing@tang.com", Profession: "Military Governor",
		Income: "100 gold", Remarks: "line 1\nline 2", Tags: []string{"Soldier", "Strategy"}, Stage: "Requirement match",
		Source: "Default", Language: "Auto",
		CustomFields: map[string]any{
			"Faction": "Guanlong Group", "extensionField1": "x", "Level": json.Number("7"), "Joined": "2022-03-08",
			"Meeting": "12:00:00", "Interests": []any{"Archery", "Poetry"}, "Attachment": []any{"http://1.img", "http://2.img"},
		},
	}, rules)
	second := wiretest.Prepared(t, schema.Customer{Owner: "kubrick101", WhatsApp: "8615266667780", RemoveTags: []string{"Strategy"}, Tags: []string{"VIP"}}, rules)
	for _, k := range []fieldconfig.Checked{in, second} {
		w, errs, _ := a.Translate(importOp, k)
		if errs != nil {
			t.Fatal(errs)
		}
		res, err := wiretest.DoOne(t, a, importOp, []gateway.Record{{Customer: k.Customer(), Wire: w}})
		if err != nil || res.Outcomes[0].Status != gateway.StatusSucceeded {
			t.Fatalf("import: %v %+v", err, res.Outcomes)
		}
	}
	contacts, _, err := a.Query(context.Background(), "kubrick101", rules)
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Customer{
		WhatsApp: "8615266667780", Name: "Feng Changqing", Gender: "male", Birthday: "2020-03-08", Address: "Chang'an",
		Email: "fengchangqing@tang.com", Profession: "Military Governor", Income: "100 gold", Remarks: "line 1\nline 2",
		Country: "CN", Tags: []string{"Soldier", "VIP"}, Stage: "Requirement match", Source: "Default",
		CustomFields: map[string]any{
			"Faction": "Guanlong Group", "extensionField1": "x", "Level": json.Number("7"), "Joined": "2022-03-08",
			"Meeting": "12:00:00", "Interests": []string{"Archery", "Poetry"}, "Attachment": []string{"http://1.img", "http://2.img"},
		},
	}
	if len(contacts) != 1 || !reflect.DeepEqual(contacts[0], gateway.Contact{Customer: want}) {
		t.Fatalf("contacts = %#v\nwant %#v", contacts, want)
	}
}

// TestSimulatorQueryShape checks the query answer against the document's
// shape: nulls where empty, ids for stage and source, dates yyyy/MM/dd.
func TestSimulatorQueryShape(t *testing.T) {
	t.Parallel()
	sim := New(Config{TenantID: 82, Agents: SandboxAgents, Fields: SampleFieldConfig()})
	rec := map[string]any{"agentAccount": "kubrick101", "whatsApp": "86187272722", "stage": "New customer",
		"source": "System assignment", "Joined": "2024-07-08"}
	if _, ans := postSim(t, sim, PathBatchImport, "", map[string]any{"tenantId": 82, "data": []any{rec}}); ans["code"] != json.Number("200") {
		t.Fatal(ans)
	}
	status, ans := postSim(t, sim, PathQuery, "", map[string]any{"tenantId": 82, "whatsId": "86187272722"})
	if status != 200 {
		t.Fatal(status)
	}
	got, _ := json.Marshal(ans)
	want := []byte(`{"code":200,"message":"Success","data":[{"whatsId":"86187272722","name":"","sex":null,"email":"",
		"birthday":null,"address":"","profession":"","income":"","desc":"","country":"CN","stage":10,"source":10,
		"tabList":null,"firstChatTime":null,"lastChatTime":null,"extendMap":{"Joined":"2024/07/08"}}]}`)
	wiretest.SameJSON(t, got, want)
	if _, ans := postSim(t, sim, PathQuery, "", map[string]any{"tenantId": 82, "whatsId": "1"}); fmt.Sprint(ans["data"]) != "[]" {
		t.Errorf("unknown agent: %v", ans)
	}
}

func TestSimulatorRecordsCallsAndIsConcurrent(t *testing.T) {
	t.Parallel()
	a, sim := simServer(t, "tok")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := wiretest.Prepared(t, schema.Customer{Owner: "kubrick101", WhatsApp: fmt.Sprintf("86152666677%02d", i)}, fieldconfig.MustCompile(fieldconfig.Config{}))
			w, _, _ := a.Translate(importOp, k)
			calls, err := a.Plan(importOp, []gateway.Record{{Customer: k.Customer(), Wire: w}})
			if err != nil {
				t.Error(err)
				return
			}
			if res, err := a.Do(context.Background(), &calls[0]); err != nil || res.Outcomes[0].Status != gateway.StatusSucceeded {
				t.Errorf("call %d: %v %+v", i, err, res.Outcomes)
			}
		}()
	}
	wg.Wait()
	calls := sim.Calls()
	if len(calls) != 8 {
		t.Fatalf("%d calls recorded", len(calls))
	}
	for _, c := range calls {
		if c.Path != PathBatchImport || c.Header.Get("token") != "tok" || !json.Valid(c.Body) {
			t.Fatalf("call = %+v", c)
		}
	}
	if got := queryPhones(t, a, "kubrick101"); len(got) != 8 {
		t.Fatalf("query lists %d contacts", len(got))
	}
}

func TestSandbox(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := wscrm.Factory()
	if f.Name != "wscrm" {
		t.Fatalf("name %q", f.Name)
	}
	sb, err := Sandbox(ctx, "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := sb.Config.(*wscrm.Config)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Common.Validate(); err != nil {
		t.Fatal(err)
	}
	if sb.Common.ID != "sandbox-wscrm" || sb.Common.Provider != "wscrm" || cfg.TenantID != 82 || cfg.Token == "" ||
		cfg.Webhook.Mode != wscrm.WebhookStatic || cfg.Webhook.Token == "" || !strings.HasPrefix(sb.Common.BaseURL, "http://127.0.0.1:") ||
		sb.Changes == nil || sb.Handler == nil || sb.Common.Timeout == 0 {
		t.Fatalf("sandbox = %+v, config = %+v", sb, cfg)
	}
	if !reflect.DeepEqual(sb.FieldConfig, SampleFieldConfig()) {
		t.Fatal("field configuration is not the sample")
	}
	p, err := f.New(sb.Common, sb.Config, &http.Client{})
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*wscrm.Adapter)
	rules := sampleRules()
	res, err := wiretest.DoOne(t, a, importOp, wiretest.Records(t, a, importOp, rules, schema.Customer{Owner: "wangwu", WhatsApp: "+86 152 6666 7780", Name: "Li Heng"}))
	if err != nil || res.Outcomes[0].Status != gateway.StatusSucceeded {
		t.Fatalf("import: %v %+v", err, res)
	}
	if got := queryPhones(t, a, "wangwu"); !reflect.DeepEqual(got, []string{"8615266667780"}) {
		t.Fatalf("query = %v", got)
	}
	// A request without the token is refused by the sandbox simulator.
	resp, err := http.Post(sb.Common.BaseURL+PathQuery, "application/json", strings.NewReader(`{"tenantId":82,"whatsId":"861821733100"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte(`"token error"`)) {
		t.Fatalf("tokenless query answered %s", body)
	}

	sb.Close()
	if _, err := http.Post(sb.Common.BaseURL+PathQuery, "application/json", strings.NewReader(`{}`)); err == nil {
		t.Fatal("simulator still serving after Close")
	}
}

func TestSandboxStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := Sandbox(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// The server is closed by a goroutine that ctx's end starts; wait for
	// it (bounded) rather than for a fixed time.
	testutil.Eventually(t, 5*time.Second, "the simulator to stop serving after its context ended", func() bool {
		resp, err := http.Post(sb.Common.BaseURL+PathQuery, "application/json", strings.NewReader(`{}`))
		if err != nil {
			return true
		}
		resp.Body.Close()
		return false
	})
}
