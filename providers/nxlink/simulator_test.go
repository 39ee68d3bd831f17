package nxlink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// simRequestTo builds a signed request of the document's account; edit may
// change its headers after signing.
func simRequestTo(body string, ts time.Time, edit func(h http.Header)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, BatchCreatePath, strings.NewReader(body))
	t := strconv.FormatInt(ts.UnixMilli(), 10)
	r.Header.Set("accessKey", testAccessKey)
	r.Header.Set("ts", t)
	r.Header.Set("bizType", "2")
	r.Header.Set("action", "mt")
	r.Header.Set("sign", docSign("md5", t, []byte(body)))
	if edit != nil {
		edit(r.Header)
	}
	return r
}

// simAnswerOf serves r and decodes the answer generically.
func simAnswerOf(t *testing.T, sim *Simulator, r *http.Request) (int, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	var m map[string]any
	dec := json.NewDecoder(w.Body)
	dec.UseNumber()
	if w.Code == http.StatusOK {
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
	}
	return w.Code, m
}

func testSimulator() *Simulator {
	return NewSimulator(SimConfig{Now: fixedClock, Accounts: []SimAccount{{
		AccessKey: testAccessKey, AccessSecret: testSecret, TenantID: testTenant, AppKey: testAppKey,
		Seats: []string{"agent1@example.com"},
	}}})
}

// body builds a request body with the given type, strict_binding and customers.
func body(typ int, strict bool, customers ...string) string {
	return fmt.Sprintf(`{"type":%d,"tenant_id":123,"app_key":"46oKF=os","strict_binding":%v,"customers":[%s]}`,
		typ, strict, strings.Join(customers, ","))
}

const okCustomer = `{"full_name":"zhang san","whats_app_phone":"8618163725558"}`

func TestSimulatorRefusesCalls(t *testing.T) {
	t.Parallel()
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf(`{"full_name":"c%d","email":"c%d@example.com"}`, i, i)
	}
	tests := []struct {
		name     string
		body     string
		ts       time.Time
		edit     func(h http.Header)
		wantCode int64
	}{
		{"bad signature", body(1, false, okCustomer), testNow, func(h http.Header) { h.Set("sign", strings.Repeat("0", 32)) }, SimCodeBadSign},
		{"signed with another secret", body(1, false, okCustomer), testNow, func(h http.Header) {
			h.Set("sign", Sign("md5", testAccessKey, "mt", "2", h.Get("ts"), []byte(body(1, false, okCustomer)), "other"))
		}, SimCodeBadSign},
		{"ts 61 s behind", body(1, false, okCustomer), testNow.Add(-61 * time.Second), nil, SimCodeClockSkew},
		{"ts 61 s ahead", body(1, false, okCustomer), testNow.Add(61 * time.Second), nil, SimCodeClockSkew},
		{"101 customers", body(1, false, many...), testNow, nil, SimCodeTooManyRecords},
		{"no customers", body(1, false), testNow, nil, SimCodeTooManyRecords},
		{"unknown access key", body(1, false, okCustomer), testNow, func(h http.Header) { h.Set("accessKey", "nobody") }, SimCodeUnknownKey},
		{"missing sign", body(1, false, okCustomer), testNow, func(h http.Header) { h.Del("sign") }, SimCodeBadRequest},
		{"missing bizType", body(1, false, okCustomer), testNow, func(h http.Header) { h.Del("bizType") }, SimCodeBadRequest},
		{"wrong action", body(1, false, okCustomer), testNow, func(h http.Header) { h.Set("action", "mo") }, SimCodeBadRequest},
		{"sha256 header with an md5 sign", body(1, false, okCustomer), testNow, func(h http.Header) { h.Set("algorithm", "sha256") }, SimCodeBadSign},
		{"unknown algorithm", body(1, false, okCustomer), testNow, func(h http.Header) { h.Set("algorithm", "sha1") }, SimCodeBadRequest},
		{"type 3", body(3, false, okCustomer), testNow, nil, SimCodeBadRequest},
		{"type missing", `{"tenant_id":123,"app_key":"46oKF=os","customers":[` + okCustomer + `]}`, testNow, nil, SimCodeBadRequest},
		{"not JSON", `{"type":`, testNow, nil, SimCodeBadRequest},
		{"another tenant", strings.Replace(body(1, false, okCustomer), `"tenant_id":123`, `"tenant_id":124`, 1), testNow, nil, SimCodeTenantMismatch},
		{"another app key", strings.Replace(body(1, false, okCustomer), `46oKF=os`, `x`, 1), testNow, nil, SimCodeTenantMismatch},
		{"unknown seat without strict binding", body(1, false, okCustomer, `{"full_name":"li si","email":"a@example.com","belong_seat_user":"agent1"}`), testNow, nil, CodeSeatNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := testSimulator()
			status, ans := simAnswerOf(t, sim, simRequestTo(tt.body, tt.ts, tt.edit))
			if status != http.StatusOK {
				t.Fatalf("HTTP %d", status)
			}
			if ans["code"] != json.Number(strconv.FormatInt(tt.wantCode, 10)) || ans["data"] != nil {
				t.Errorf("answer %v, want code %d and data null", ans, tt.wantCode)
			}
			if msg, _ := ans["message"].(string); msg == "" || !traceIDPattern.MatchString(fmt.Sprint(ans["traceId"])) {
				t.Errorf("answer %v: want a message and a traceId", ans)
			}
			if n := len(sim.Customers()); n != 0 {
				t.Errorf("a refused call stored %d customers", n)
			}
		})
	}
}

func TestSimulatorClockWindowEdges(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second, 59 * time.Second} {
		sim := testSimulator()
		_, ans := simAnswerOf(t, sim, simRequestTo(body(1, false, okCustomer), testNow.Add(d), nil))
		if ans["code"] != json.Number("0") {
			t.Errorf("ts %v off: %v", d, ans)
		}
	}
}

func TestSimulatorHTTP(t *testing.T) {
	t.Parallel()
	sim := testSimulator()
	r := simRequestTo(body(1, false, okCustomer), testNow, nil)
	r.URL.Path = "/saas/cdp/openapi/customers/other"
	if status, _ := simAnswerOf(t, sim, r); status != http.StatusNotFound {
		t.Errorf("other path: HTTP %d", status)
	}
	r = simRequestTo(body(1, false, okCustomer), testNow, nil)
	r.Method = http.MethodGet
	if status, _ := simAnswerOf(t, sim, r); status != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", status)
	}
	sim.FailNext(2)
	for i := range 3 {
		status, _ := simAnswerOf(t, sim, simRequestTo(body(1, false, okCustomer), testNow, nil))
		want := http.StatusServiceUnavailable
		if i == 2 {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("call %d: HTTP %d, want %d", i, status, want)
		}
	}
	calls := sim.Calls()
	if len(calls) != 5 || calls[4].Header.Get("accessKey") != testAccessKey || string(calls[4].Body) != body(1, false, okCustomer) {
		t.Errorf("calls %d %+v", len(calls), calls[len(calls)-1])
	}
}

func TestSimulatorPerItemChecks(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	digits := func(n int) string { return strings.Repeat("1", n) }
	tests := []struct {
		name     string
		customer string
		wantCode int64
		wantMsg  string
	}{
		{"full_name missing", `{"whats_app_phone":"8618163725558"}`, SimCodeNameRequired, "full_name is required"},
		{"full_name blank", `{"full_name":"  ","whats_app_phone":"8618163725558"}`, SimCodeNameRequired, "full_name is required"},
		{"no channel", `{"full_name":"a","country":"China"}`, SimCodeChannelRequired, "sms_phone, whats_app_phone, email, viber_phone, messenger, instagram, line, zalo cannot all be empty"},
		{"phone not digits", `{"full_name":"a","whats_app_phone":"+86 181"}`, SimCodeInvalidPhone, "whats_app_phone must be digits only"},
		{"zalo not digits", `{"full_name":"a","email":"a@example.com","zalo":"z1"}`, SimCodeInvalidPhone, "zalo must be digits only"},
		{"full_name too long", `{"full_name":"` + long(256) + `","email":"a@example.com"}`, SimCodeTooLong, "full_name exceeds the maximum length of 255 characters"},
		{"sms_phone too long", `{"full_name":"a","sms_phone":"` + digits(31) + `"}`, SimCodeTooLong, "sms_phone exceeds the maximum length of 30 characters"},
		{"messenger too long", `{"full_name":"a","messenger":"` + digits(33) + `"}`, SimCodeTooLong, "messenger exceeds the maximum length of 32 characters"},
		{"email too long", `{"full_name":"a","email":"` + long(39) + `@example.com"}`, SimCodeTooLong, "email exceeds the maximum length of 50 characters"},
		{"remark too long", `{"full_name":"a","email":"a@example.com","remark":"` + long(2001) + `"}`, SimCodeTooLong, "remark exceeds the maximum length of 2000 characters"},
		{"birthday format", `{"full_name":"a","email":"a@example.com","birthday":"1976/04/12"}`, SimCodeInvalidDate, "birthday must be in the format yyyy-MM-dd"},
		{"weight 6", `{"full_name":"a","email":"a@example.com","weight":6}`, SimCodeInvalidValue, "weight must be an integer from 1 to 5"},
		{"gender 2", `{"full_name":"a","email":"a@example.com","gender":2}`, SimCodeInvalidValue, "gender must be 1 (male) or 0 (female)"},
		{"customize_field an object", `{"full_name":"a","email":"a@example.com","customize_field":{"k":"v"}}`, SimCodeInvalidValue, "customize_field must be a string"},
		{"customize_field not JSON", `{"full_name":"a","email":"a@example.com","customize_field":"k=v"}`, SimCodeInvalidValue, "customize_field must be a JSON object as a string"},
		{"phone a number", `{"full_name":"a","whats_app_phone":8618163725558}`, SimCodeInvalidValue, "whats_app_phone must be a string"},
		{"unknown seat, strict", `{"full_name":"a","email":"a@example.com","belong_seat_user":"agent1"}`, CodeSeatNotFound, seatMessageAgent1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := testSimulator()
			_, ans := simAnswerOf(t, sim, simRequestTo(body(1, true, okCustomer, tt.customer), testNow, nil))
			data, _ := ans["data"].(map[string]any)
			want := map[string]any{
				"totalCount": json.Number("2"), "successCount": json.Number("1"), "failCount": json.Number("1"),
				"failItems":    []any{map[string]any{"index": json.Number("1"), "errorCode": json.Number(strconv.FormatInt(tt.wantCode, 10)), "errorMessage": tt.wantMsg}},
				"successItems": []any{map[string]any{"index": json.Number("0"), "customerId": json.Number("1214631327620775936"), "whatsAppPhone": "8618163725558"}},
			}
			if ans["code"] != json.Number("0") || !reflect.DeepEqual(data, want) {
				t.Errorf("answer %v\nwant data %v", ans, want)
			}
		})
	}
}

// The simulator's answers have exactly the shape of the document's examples.
func TestSimulatorAnswerShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		body string
	}{
		{"answer_success.json", body(1, true, okCustomer, `{"full_name":"li si","whats_app_phone":"8618135539411"}`)},
		{"answer_partial.json", body(1, true, okCustomer, `{"full_name":"li si","whats_app_phone":"8618135539411","belong_seat_user":"agent1"}`)},
		{"answer_failure.json", body(1, false, okCustomer, `{"full_name":"li si","whats_app_phone":"8618135539411","belong_seat_user":"agent1"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			testSimulator().ServeHTTP(w, simRequestTo(tt.body, testNow, nil))
			got, want := sortedJSON(t, w.Body.Bytes()), sortedJSON(t, readTestdata(t, tt.file))
			var shapeGot, shapeWant any
			json.Unmarshal([]byte(got), &shapeGot)
			json.Unmarshal([]byte(want), &shapeWant)
			if g, w := shape(shapeGot), shape(shapeWant); g != w {
				t.Errorf("shape\ngot:  %s\nwant: %s", g, w)
			}
			gotM, wantM := map[string]any{}, map[string]any{}
			json.Unmarshal([]byte(got), &gotM)
			json.Unmarshal([]byte(want), &wantM)
			delete(gotM, "traceId")
			delete(wantM, "traceId")
			// The trace id is random; everything else is the document's example.
			if !reflect.DeepEqual(gotM, wantM) {
				t.Errorf("answer differs from the document's example\ngot:  %v\nwant: %v", gotM, wantM)
			}
		})
	}
}

// shape describes a decoded JSON value's keys and types.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.WriteString("{")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s:%s,", k, shape(x[k]))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func TestSimulatorTypes(t *testing.T) {
	t.Parallel()
	first := `{"full_name":"zhang san","whats_app_phone":"8618163725558","email":"old@example.com","country":"China"}`
	second := `{"full_name":"zhang san 2","whats_app_phone":"8618163725558","email":"","remark":"new"}`
	tests := []struct {
		name string
		typ  int
		want map[string]any
	}{
		{"0 replaces", 0, map[string]any{"full_name": "zhang san 2", "whats_app_phone": "8618163725558", "remark": "new"}},
		{"1 merges non-empty fields", 1, map[string]any{"full_name": "zhang san 2", "whats_app_phone": "8618163725558", "email": "old@example.com", "country": "China", "remark": "new"}},
		{"2 keeps the existing record", 2, map[string]any{"full_name": "zhang san", "whats_app_phone": "8618163725558", "email": "old@example.com", "country": "China"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := testSimulator()
			simAnswerOf(t, sim, simRequestTo(body(1, false, first), testNow, nil))
			_, ans := simAnswerOf(t, sim, simRequestTo(body(tt.typ, false, second, `{"full_name":"by mail","email":"m@example.com"}`), testNow, nil))
			items := ans["data"].(map[string]any)["successItems"].([]any)
			if len(items) != 2 || items[0].(map[string]any)["customerId"] != json.Number("1214631327620775936") ||
				items[1].(map[string]any)["customerId"] != json.Number("1214631327620775937") {
				t.Errorf("successItems %v", items)
			}
			cs := sim.Customers()
			if len(cs) != 2 || cs[0].ID != FirstCustomerID || cs[0].Key != "whats_app_phone:8618163725558" || cs[1].Key != "email:m@example.com" {
				t.Fatalf("customers %+v", cs)
			}
			if !reflect.DeepEqual(cs[0].Fields, tt.want) {
				t.Errorf("stored %v\nwant   %v", cs[0].Fields, tt.want)
			}
		})
	}
}

func TestSimulatorConcurrentCalls(t *testing.T) {
	t.Parallel()
	sim := testSimulator()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := body(1, false, fmt.Sprintf(`{"full_name":"c","email":"c%d@example.com"}`, i))
			r := simRequestTo(b, testNow, nil)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+BatchCreatePath, strings.NewReader(b))
			req.Header = r.Header
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	cs := sim.Customers()
	if len(cs) != 20 || cs[19].ID != FirstCustomerID+19 || len(sim.Calls()) != 20 {
		t.Errorf("%d customers, %d calls", len(cs), len(sim.Calls()))
	}
}

func TestSimulatorDelayAndCallLog(t *testing.T) {
	t.Parallel()
	sim := NewSimulator(SimConfig{Now: fixedClock, MaxCalls: 2, Delay: time.Millisecond, Accounts: []SimAccount{{
		AccessKey: testAccessKey, AccessSecret: testSecret, TenantID: testTenant, AppKey: testAppKey}}})
	for i := range 3 {
		b := body(1, false, fmt.Sprintf(`{"full_name":"c","email":"c%d@example.com"}`, i))
		if _, ans := simAnswerOf(t, sim, simRequestTo(b, testNow, nil)); ans["code"] != json.Number("0") {
			t.Fatalf("call %d: %v", i, ans)
		}
	}
	calls := sim.Calls()
	if len(calls) != 2 || !strings.Contains(string(calls[0].Body), "c1@") || !strings.Contains(string(calls[1].Body), "c2@") {
		t.Errorf("kept calls %d", len(calls))
	}
	// A caller that gives up during the delay gets no answer, but the call was
	// applied, as at the real provider: that is why such records are unknown.
	sim.SetDelay(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, simRequestTo(body(1, false, `{"full_name":"late","email":"late@example.com"}`), testNow, nil).WithContext(ctx))
	if w.Body.Len() != 0 || len(sim.Customers()) != 4 {
		t.Errorf("answered %q, %d customers", w.Body.String(), len(sim.Customers()))
	}
}
