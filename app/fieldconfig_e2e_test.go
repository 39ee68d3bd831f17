package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"crmgate/api/answer"
	"crmgate/app"
	"crmgate/auth"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/internal/apptest"
	"crmgate/internal/redistest"
	"crmgate/internal/testutil"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/schema"
)

// wscrmFields is the WSCRM backend of the provider document: its stages,
// sources and languages, and one extension field of every type, named as the
// document's "Extension Field Explanation" names them.
const wscrmFields = `
required: [name, whatsapp, owner]
stages: [{label: "New customer", id: 10}, {label: "Requirement match", id: 20}]
sources: [{label: "System assignment", id: 10}, {label: "Default", id: 11}]
languages: [{label: "Auto"}, {label: "Simplified Chinese (ZH)"}]
tags: {strict: true, known: ["Soldier", "Strategy", "VIP"]}
custom_fields:
  - {name: "ha-hi", type: text, max_length: 16}
  - {name: "Numeric extension field", type: number}
  - {name: "Date extension field", type: date}
  - {name: "Renewal", type: date, format: "2006/01/02"}
  - {name: "Time", type: time}
  - {name: "Faction", type: single_select, options: ["Guanlong Group", "Royal Family"]}
  - {name: "Multi-select", type: multi_select, options: ["A", "B", "C"]}
  - {name: "Attachment", type: attachment}
`

// nxlinkFields is the same configuration for an NXLink connection, whose
// custom fields travel under their provider keys (customize_1_14 is the
// document's).
const nxlinkFields = `
required: [name]
stages: [{label: "New customer", id: 10}, {label: "Requirement match", id: 20}]
sources: [{label: "System assignment", id: 10}, {label: "Default", id: 11}]
languages: [{label: "Auto"}, {label: "Simplified Chinese (ZH)"}]
tags: {strict: true, known: ["Soldier", "Strategy", "VIP"]}
custom_fields:
  - {name: "ha-hi", type: text, max_length: 16, provider_key: customize_1_10}
  - {name: "Numeric extension field", type: number, provider_key: customize_1_11}
  - {name: "Date extension field", type: date, provider_key: customize_1_12}
  - {name: "Renewal", type: date, format: "2006/01/02", provider_key: customize_1_13}
  - {name: "Time", type: time, provider_key: customize_1_15}
  - {name: "Faction", type: single_select, options: ["Guanlong Group", "Royal Family"], provider_key: customize_1_14}
  - {name: "Multi-select", type: multi_select, options: ["A", "B", "C"], provider_key: customize_1_16}
  - {name: "Attachment", type: attachment, provider_key: customize_1_17}
`

// fcPeers are simulators whose WSCRM backend holds wscrmFields.
func fcPeers(t *testing.T) *peers {
	t.Helper()
	return newPeers(t, fcYAML(t, wscrmFields), kubrick101)
}

// fcConfig is the configuration document naming the simulators, with the
// two connections' field configurations.
func fcConfig(t *testing.T, p *peers) string {
	t.Helper()
	return acmeDoc{
		nxURL: p.nxURL, nx: []string{"field_config: " + fcFlow(t, fcYAML(t, nxlinkFields))},
		wsURL: p.wsURL, ws: []string{"field_config: " + fcFlow(t, fcYAML(t, wscrmFields))},
	}.String()
}

// invalidRecords breaks the field configuration once each, on top of base
// (a record that is valid for the connection), with the one issue expected.
func invalidRecords(base map[string]any) ([]map[string]any, []issueKey) {
	with := func(k string, v any) map[string]any {
		r := map[string]any{}
		for bk, bv := range base {
			r[bk] = bv
		}
		if k == "-name" {
			delete(r, "name")
			return r
		}
		r[k] = v
		return r
	}
	custom := func(name string, v any) map[string]any { return with("custom_fields", map[string]any{name: v}) }
	urls := make([]string, 11)
	for i := range urls {
		urls[i] = fmt.Sprintf("https://files.example.com/%d.png", i)
	}
	cf := func(name string) string { return schema.CustomFieldPath(name) }
	cases := []struct {
		rec  map[string]any
		want issueKey
	}{
		{with("-name", nil), issueKey{schema.CodeRequired, "name"}},
		{with("stage", "Closed"), issueKey{schema.CodeInvalidOption, "stage"}},
		{with("source", "Billboard"), issueKey{schema.CodeInvalidOption, "source"}},
		{with("language", "Klingon"), issueKey{schema.CodeInvalidOption, "language"}},
		{with("tags", []string{"VIP", "Ghost"}), issueKey{schema.CodeInvalidOption, "tags"}},
		{custom("ha-hi", "seventeen chars!!"), issueKey{schema.CodeTooLong, cf("ha-hi")}},
		{custom("Numeric extension field", "12a"), issueKey{schema.CodeInvalidNumber, cf("Numeric extension field")}},
		{custom("Date extension field", "2022/03/08"), issueKey{schema.CodeInvalidDate, cf("Date extension field")}},
		{custom("Time", "12:00"), issueKey{schema.CodeInvalidTime, cf("Time")}},
		{custom("Faction", "Nobody"), issueKey{schema.CodeInvalidOption, cf("Faction")}},
		{custom("Multi-select", []string{"A", "Z"}), issueKey{schema.CodeInvalidOption, cf("Multi-select")}},
		{custom("Attachment", urls), issueKey{schema.CodeAttachmentInvalid, cf("Attachment")}},
		{custom("Attachment", []string{"ftp://files.example.com/a.png"}), issueKey{schema.CodeAttachmentInvalid, cf("Attachment")}},
		{custom("Mood", "happy"), issueKey{schema.CodeUnknownField, cf("Mood")}},
	}
	recs := make([]map[string]any, len(cases))
	want := make([]issueKey, len(cases))
	for i, c := range cases {
		c.rec["ref"] = fmt.Sprintf("bad-%d", i)
		recs[i], want[i] = c.rec, c.want
	}
	return recs, want
}

// Every kind of field-configuration error, mixed with valid records in one
// batch over real HTTP: only the valid records reach the provider, each
// invalid one fails with its own code on its own field, and the valid ones'
// custom fields go out as each provider's document encodes them.
func TestFieldConfigErrorsStopRecordsBeforeTheProvider(t *testing.T) {
	t.Parallel()
	allFields := map[string]any{
		"ha-hi": "ha-ha-hi", "Numeric extension field": 123, "Date extension field": "2022-03-08",
		"Renewal": "2025-01-31", "Time": "12:00:00", "Faction": "Guanlong Group",
		"Multi-select": []string{"A", "B"}, "Attachment": []string{"http://123.img", "http://456.img"},
	}
	tests := []struct {
		name       string
		connection string
		// full uses every custom field; minimal is the base of the invalid ones.
		full, minimal map[string]any
		golden        string
		calls         func(p *peers) [][]byte
	}{
		{
			name:       "wscrm",
			connection: "acme-wa",
			full: map[string]any{"name": "Feng Changqing", "gender": "male", "birthday": "2020-03-08",
				"whatsapp": "+86 152 6666 7780", "owner": "kubrick101", "address": "Chang'an", "email": "fengchangqing@tang.com",
				"profession": "Military Governor", "income": "100 gold", "tags": []string{"Soldier", "Strategy"},
				"stage": "New customer", "source": "System assignment", "language": "Auto",
				"welcome_message": "This is a welcome message", "custom_fields": allFields},
			minimal: map[string]any{"name": "Li Heng", "whatsapp": "8615266667781", "owner": "kubrick101"},
			golden:  "e2e_fieldconfig_wscrm.json",
			calls: func(p *peers) [][]byte {
				var out [][]byte
				for _, c := range p.ws.Calls() {
					if c.Path != wscrmsim.PathBatchImport {
						t.Errorf("call to %s, want %s", c.Path, wscrmsim.PathBatchImport)
					}
					out = append(out, c.Body)
				}
				return out
			},
		},
		{
			name:       "nxlink",
			connection: "acme-cdp",
			full: map[string]any{"name": "zhang san", "first_name": "san", "last_name": "zhang",
				"whatsapp": "+86 181 6372 5558", "email": "zhangsan@example.com", "birthday": "1976-04-12",
				"gender": "male", "tags": []string{"VIP", "Soldier"}, "owner": "agent1@example.com", "level": 5,
				"custom_fields": allFields},
			minimal: map[string]any{"name": "li si", "whatsapp": "8618135539411"},
			golden:  "e2e_fieldconfig_nxlink.json",
			calls: func(p *peers) [][]byte {
				var out [][]byte
				for _, c := range p.nx.Calls() {
					out = append(out, c.Body)
				}
				return out
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := fcPeers(t)
			gw := startGW(t, gwSetup{doc: fcConfig(t, p)})
			bad, want := invalidRecords(tc.minimal)
			full := map[string]any{"ref": "full"}
			for k, v := range tc.full {
				full[k] = v
			}
			minimal := map[string]any{"ref": "minimal"}
			for k, v := range tc.minimal {
				minimal[k] = v
			}
			// The valid records open and close the batch; the invalid ones sit between.
			batch := append(append([]map[string]any{full}, bad...), minimal)

			code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": tc.connection, "customers": batch})
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			checkCounts(t, a, len(batch))
			if a.Succeeded != 2 || a.Failed != len(bad) {
				t.Errorf("succeeded %d failed %d, want 2 and %d", a.Succeeded, a.Failed, len(bad))
			}
			for _, i := range []int{0, len(batch) - 1} {
				if r := a.Results[i]; r.Status != answer.StatusSucceeded || len(r.Errors) != 0 {
					t.Errorf("valid record %d (%s): %+v", i, r.Ref, r)
				}
			}
			for k, w := range want {
				r := a.Results[k+1]
				if r.Ref != fmt.Sprintf("bad-%d", k) || r.Status != answer.StatusFailed {
					t.Errorf("record %d: %+v, want failed", k+1, r)
					continue
				}
				if d := cmp.Diff([]issueKey{w}, issueKeys(r.Errors)); d != "" {
					t.Errorf("record %d (%s) errors (-want +got):\n%s", k+1, r.Ref, d)
				}
			}
			bodies := tc.calls(p)
			if len(bodies) != 1 {
				t.Fatalf("%d calls reached the provider, want 1", len(bodies))
			}
			matchGolden(t, tc.golden, bodies[0])
		})
	}
}

// NXLink's customize_field is a JSON string (not an object) keyed by the
// fields' provider keys, its number a JSON number inside that string.
func TestNXLinkCustomizeFieldIsAJSONString(t *testing.T) {
	t.Parallel()
	p := fcPeers(t)
	gw := startGW(t, gwSetup{doc: fcConfig(t, p)})
	code, a := post(t, gw.URL+"/v1/customers", bearer(t), map[string]any{"connection": "acme-cdp", "customers": []map[string]any{
		{"name": "zhang san", "whatsapp": "8618163725558", "custom_fields": map[string]any{"Faction": "Royal Family", "Numeric extension field": 7.5}},
	}})
	if code != http.StatusOK || a.Succeeded != 1 {
		t.Fatalf("status %d answer %+v", code, a)
	}
	calls := p.nx.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	var body struct {
		Customers []map[string]json.RawMessage `json:"customers"`
	}
	if err := json.Unmarshal(calls[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal(body.Customers[0]["customize_field"], &s); err != nil {
		t.Fatalf("customize_field %s is not a JSON string: %v", body.Customers[0]["customize_field"], err)
	}
	if want := `{"customize_1_11":7.5,"customize_1_14":"Royal Family"}`; s != want {
		t.Errorf("customize_field %s, want %s", s, want)
	}
}

// validateOne runs one record through POST /v1/customers/validate and
// returns its result.
func validateOne(t *testing.T, url, conn string, rec map[string]any) answer.Result {
	t.Helper()
	r := apptest.Do(t, http.MethodPost, url+"/v1/customers/validate", bearer(t), map[string]any{"connection": conn, "customers": []any{rec}})
	if r.Status != http.StatusOK {
		t.Fatalf("validate: status %d: %s", r.Status, r.Body)
	}
	var a answer.Answer
	r.Decode(t, &a)
	if len(a.Results) != 1 {
		t.Fatalf("validate: %s", r.Body)
	}
	return a.Results[0]
}

// fieldConfigDoc is the answer of GET /v1/connections/{id}/field-config.
type fieldConfigDoc struct {
	Version int64              `json:"version"`
	Config  fieldconfig.Config `json:"config"`
}

func getFieldConfig(t *testing.T, url, conn string) (fieldConfigDoc, string) {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, url+"/v1/connections/"+conn+"/field-config", adminBearer(t), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET field-config: %d %s", r.Status, r.Body)
	}
	var d fieldConfigDoc
	r.Decode(t, &d)
	return d, r.Header.Get("ETag")
}

// withStage is cfg with one more stage.
func withStage(cfg fieldconfig.Config, label string, id int64) fieldconfig.Config {
	cfg.Stages = append(slices.Clone(cfg.Stages), fieldconfig.Option{Label: label, ID: &id})
	return cfg
}

// Two gateway instances on one Redis share one field configuration: a PUT
// on one (conditional on GET's ETag) changes validation on the other within
// seconds, and a PUT with a stale If-Match is refused with 412.
func TestFieldConfigSharedByInstancesThroughRedis(t *testing.T) {
	t.Parallel()
	redisURL, prefix := sharedRedis(t)
	p := fcPeers(t)
	setup := gwSetup{doc: fcConfig(t, p), redis: redisURL, options: app.Options{RedisPrefix: prefix}, run: true}
	one, two := startGW(t, setup), startGW(t, setup)

	won := map[string]any{"name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}
	if r := validateOne(t, two.URL, "acme-wa", won); r.Status != gateway.StatusFailed ||
		cmp.Diff([]issueKey{{schema.CodeInvalidOption, "stage"}}, issueKeys(r.Errors)) != "" {
		t.Fatalf("before the change: %+v, want invalid_option on stage", r)
	}

	doc, tag := getFieldConfig(t, one.URL, "acme-wa")
	if doc.Version < 1 || tag != fmt.Sprintf("%q", fmt.Sprint(doc.Version)) {
		t.Fatalf("GET: version %d ETag %s", doc.Version, tag)
	}
	if d := cmp.Diff(fcYAML(t, wscrmFields), doc.Config); d != "" {
		t.Errorf("stored document is not the configuration file's (-want +got):\n%s", d)
	}
	changed := withStage(doc.Config, "Won", 30)
	r := apptest.Do(t, http.MethodPut, one.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), changed, "If-Match", tag)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	var put fieldConfigDoc
	r.Decode(t, &put)
	if put.Version != doc.Version+1 || r.Header.Get("ETag") != fmt.Sprintf("%q", fmt.Sprint(put.Version)) {
		t.Fatalf("PUT answered version %d ETag %s, want %d", put.Version, r.Header.Get("ETag"), doc.Version+1)
	}

	stale := apptest.Do(t, http.MethodPut, two.URL+"/v1/connections/acme-wa/field-config", adminBearer(t),
		withStage(doc.Config, "Lost", 40), "If-Match", tag)
	expectProblem(t, stale, http.StatusPreconditionFailed)

	testutil.Eventually(t, 5*time.Second, "the other instance validates with the new configuration", func() bool {
		return validateOne(t, two.URL, "acme-wa", won).Status == gateway.StatusValid
	})
	if got, tag2 := getFieldConfig(t, two.URL, "acme-wa"); got.Version != put.Version || tag2 != r.Header.Get("ETag") {
		t.Errorf("other instance serves version %d (ETag %s), want %d", got.Version, tag2, put.Version)
	} else if d := cmp.Diff(changed, got.Config); d != "" {
		t.Errorf("other instance's document (-want +got):\n%s", d)
	}
	// The stale PUT changed nothing.
	if r := validateOne(t, one.URL, "acme-wa", map[string]any{"name": "Li Bai", "whatsapp": "8615266667783", "owner": "kubrick101", "stage": "Lost"}); r.Status != gateway.StatusFailed {
		t.Errorf("stage of the refused PUT is accepted: %+v", r)
	}
}

// readyStatus is /readyz's status: "ready" or "degraded".
func readyStatus(t *testing.T, url string) string {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, url+"/readyz", "", nil)
	var v struct {
		Status string `json:"status"`
	}
	r.Decode(t, &v)
	return v.Status
}

// gatewayWithRedisStuck starts a gateway on a Redis of the test's own,
// through a redis_url whose read timeout is an hour, waits until it is
// ready, then pauses the Redis (Process.Pause): a Redis that stops
// answering, whose commands end only at their callers' deadlines.
func gatewayWithRedisStuck(t *testing.T) (*apptest.Gateway, *peers) {
	t.Helper()
	rs := redistest.StartProcess(t)
	p := fcPeers(t)
	gw := startGW(t, gwSetup{doc: fcConfig(t, p), redis: rs.PatientURL(),
		options: app.Options{RedisPrefix: redistest.Prefix(t)}, run: true})
	testutil.Eventually(t, 10*time.Second, "ready with Redis up", func() bool { return readyStatus(t, gw.URL) == "ready" })
	rs.Pause() // resumed before the gateway stops (cleanups run last first)
	return gw, p
}

// A Redis that stops answering (its connections open, nothing answered)
// makes /readyz say "unreachable" within its one-second check, not at the
// Redis client's own read timeout: this gateway's redis_url sets that to an
// hour, so a check bounded by the client alone would never answer.
func TestReadyzWithRedisStuck(t *testing.T) {
	t.Parallel()
	gw, _ := gatewayWithRedisStuck(t)
	var r apptest.Reply
	if err := redistest.Within(t, time.Minute, func() (err error) {
		r, err = apptest.Send(context.Background(), http.MethodGet, gw.URL+"/readyz", "", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Status string `json:"status"`
		Redis  string `json:"redis"`
	}
	r.Decode(t, &v)
	if r.Status != http.StatusOK || v.Status != "degraded" || v.Redis != "unreachable" {
		t.Errorf("/readyz with Redis stuck: %d %s", r.Status, r.Body)
	}
}

// An import's answer waits for its history at most history.PutTimeout with
// Redis stuck, then goes out with every record's result: the history is
// lost, not the answer. Through this redis_url (read timeout an hour) an
// answer waiting on the Redis client's own bound would not come at all.
func TestImportAnswersWithRedisStuck(t *testing.T) {
	t.Parallel()
	gw, p := gatewayWithRedisStuck(t)
	var r apptest.Reply
	if err := redistest.Within(t, history.PutTimeout+time.Minute, func() (err error) {
		r, err = apptest.Send(context.Background(), http.MethodPost, gw.URL+"/v1/customers", bearer(t), map[string]any{
			"connection": "acme-cdp", "customers": []map[string]any{{"name": "zhang san", "whatsapp": "8618163725558"}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var a answer.Answer
	r.Decode(t, &a)
	if r.Status != http.StatusOK || a.Succeeded != 1 || len(p.nx.Calls()) != 1 {
		t.Errorf("import with Redis stuck: %d %s (%d provider calls)", r.Status, r.Body, len(p.nx.Calls()))
	}
}

// With its Redis gone, a gateway goes on validating with the last good
// copy of the field configuration and says it is degraded; once Redis is
// back on the same address (empty: it kept nothing) it follows it again and
// says that Redis lost its data set.
func TestFieldConfigSurvivesRedisOutage(t *testing.T) {
	t.Parallel()
	rs := redistest.StartProcess(t)
	p := fcPeers(t)
	gw := startGW(t, gwSetup{doc: fcConfig(t, p), redis: rs.URL(), options: app.Options{RedisPrefix: redistest.Prefix(t)}, run: true})
	testutil.Eventually(t, 10*time.Second, "ready with Redis up", func() bool { return readyStatus(t, gw.URL) == "ready" })

	doc, tag := getFieldConfig(t, gw.URL, "acme-wa")
	r := apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), withStage(doc.Config, "Won", 30), "If-Match", tag)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	won := map[string]any{"name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}
	lost := map[string]any{"name": "Li Bai", "whatsapp": "8615266667783", "owner": "kubrick101", "stage": "Lost"}

	rs.Stop()
	testutil.Eventually(t, 10*time.Second, "/readyz degraded with Redis down", func() bool { return readyStatus(t, gw.URL) == "degraded" })
	if got := validateOne(t, gw.URL, "acme-wa", won); got.Status != gateway.StatusValid {
		t.Errorf("with Redis down, the last good copy is not used: %+v", got)
	}
	if got := validateOne(t, gw.URL, "acme-wa", lost); got.Status != gateway.StatusFailed ||
		cmp.Diff([]issueKey{{schema.CodeInvalidOption, "stage"}}, issueKeys(got.Errors)) != "" {
		t.Errorf("with Redis down, validation stopped checking: %+v", got)
	}
	if got, _ := getFieldConfig(t, gw.URL, "acme-wa"); got.Version != doc.Version+1 {
		t.Errorf("with Redis down GET serves version %d, want the last good %d", got.Version, doc.Version+1)
	}
	put := apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), doc.Config)
	expectProblem(t, put, http.StatusServiceUnavailable)

	rs.Start()
	testutil.Eventually(t, 15*time.Second, "/readyz says reset once Redis is back", func() bool {
		r := readyz(t, gw.URL)
		return r.Redis == "reset" && r.Checks["config"].OK
	})
	cur, tag := getFieldConfig(t, gw.URL, "acme-wa")
	r = apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), withStage(cur.Config, "Lost", 40), "If-Match", tag)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT after recovery: %d %s", r.Status, r.Body)
	}
	if got := validateOne(t, gw.URL, "acme-wa", lost); got.Status != gateway.StatusValid {
		t.Errorf("after recovery a PUT does not take effect: %+v", got)
	}
}

// A field configuration that is not valid is refused with 422 naming each
// bad key, and nothing changes; a PUT without the admin scope is 403.
func TestFieldConfigPutRefusals(t *testing.T) {
	t.Parallel()
	p := fcPeers(t)
	gw := startGW(t, gwSetup{doc: fcConfig(t, p)})
	before, tag := getFieldConfig(t, gw.URL, "acme-wa")

	bad := map[string]any{
		"required":  []string{"name", "shoe_size"},
		"stages":    []map[string]any{{"label": "New customer", "id": 10}, {"label": ""}, {"label": "New customer"}},
		"languages": []map[string]any{{"label": "Auto"}},
		"custom_fields": []map[string]any{
			{"name": "Colour", "type": "color"},
			{"name": "Faction", "type": "single_select"},
			{"name": "Faction", "type": "text", "max_length": -1},
			{"name": "Time", "type": "time", "format": "15:04"},
			{"name": "", "type": "text"},
		},
	}
	pr := expectProblem(t, apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", adminBearer(t), bad, "If-Match", tag),
		http.StatusUnprocessableEntity)
	var fields []string
	for _, is := range pr.Errors {
		fields = append(fields, is.Field)
		if is.Code != schema.CodeInvalidValue || is.Message == "" {
			t.Errorf("issue %+v", is)
		}
	}
	want := []string{"required[1]", "stages[1].label", "stages[2].label", "custom_fields[0].type", "custom_fields[1].options",
		"custom_fields[2].name", "custom_fields[2].max_length", "custom_fields[3].format", "custom_fields[4].name"}
	slices.Sort(fields)
	slices.Sort(want)
	if d := cmp.Diff(want, fields); d != "" {
		t.Errorf("the 422 names (-want +got):\n%s\n%s", d, pr.Errors)
	}

	after, tag2 := getFieldConfig(t, gw.URL, "acme-wa")
	if after.Version != before.Version || tag2 != tag {
		t.Errorf("version %d (ETag %s) after a refused PUT, want %d (%s)", after.Version, tag2, before.Version, tag)
	}
	if d := cmp.Diff(before.Config, after.Config); d != "" {
		t.Errorf("the refused PUT changed the document (-want +got):\n%s", d)
	}

	noAdmin := scopedToken(t, []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead})
	expectProblem(t, apptest.Do(t, http.MethodPut, gw.URL+"/v1/connections/acme-wa/field-config", noAdmin, withStage(before.Config, "Won", 30), "If-Match", tag),
		http.StatusForbidden)
	if after, _ := getFieldConfig(t, gw.URL, "acme-wa"); after.Version != before.Version {
		t.Errorf("a PUT without admin changed the version to %d", after.Version)
	}
	if r := validateOne(t, gw.URL, "acme-wa", map[string]any{"name": "Guo Ziyi", "whatsapp": "8615266667782", "owner": "kubrick101", "stage": "Won"}); r.Status != gateway.StatusFailed {
		t.Errorf("a refused PUT took effect: %+v", r)
	}
}
