package nxlinksim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"crmgate/internal/testutil"
	"crmgate/providers/nxlink/internal/nxlinktest"
)

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
		{"bad signature", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("sign", strings.Repeat("0", 32)) }, CodeBadSign},
		{"signed with another secret", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) {
			h.Set("sign", signature("md5", h, []byte(body(1, false, okCustomer)), "other"))
		}, CodeBadSign},
		{"signed without the body", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) {
			h.Set("sign", signature("md5", h, nil, nxlinktest.Secret))
		}, CodeBadSign},
		{"ts 61 s behind", body(1, false, okCustomer), nxlinktest.Now.Add(-61 * time.Second), nil, CodeClockSkew},
		{"ts 61 s ahead", body(1, false, okCustomer), nxlinktest.Now.Add(61 * time.Second), nil, CodeClockSkew},
		{"101 customers", body(1, false, many...), nxlinktest.Now, nil, CodeTooManyRecords},
		{"no customers", body(1, false), nxlinktest.Now, nil, CodeTooManyRecords},
		{"unknown access key", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("accessKey", "nobody") }, CodeUnknownKey},
		{"missing sign", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Del("sign") }, CodeBadRequest},
		{"missing bizType", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Del("bizType") }, CodeBadRequest},
		{"wrong action", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("action", "mo") }, CodeBadRequest},
		{"no Content-Type", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Del("Content-Type") }, CodeBadRequest},
		{"a form, not JSON", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("Content-Type", "application/x-www-form-urlencoded") }, CodeBadRequest},
		{"sha256 header with an md5 sign", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("algorithm", "sha256") }, CodeBadSign},
		{"unknown algorithm", body(1, false, okCustomer), nxlinktest.Now, func(h http.Header) { h.Set("algorithm", "sha1") }, CodeBadRequest},
		{"type 3", body(3, false, okCustomer), nxlinktest.Now, nil, CodeBadRequest},
		{"type missing", `{"tenant_id":123,"app_key":"46oKF=os","customers":[` + okCustomer + `]}`, nxlinktest.Now, nil, CodeBadRequest},
		{"not JSON", `{"type":`, nxlinktest.Now, nil, CodeBadRequest},
		{"another tenant", strings.Replace(body(1, false, okCustomer), `"tenant_id":123`, `"tenant_id":124`, 1), nxlinktest.Now, nil, CodeTenantMismatch},
		{"another app key", strings.Replace(body(1, false, okCustomer), `46oKF=os`, `x`, 1), nxlinktest.Now, nil, CodeTenantMismatch},
		{"unknown seat without strict binding", body(1, false, okCustomer, `{"full_name":"li si","email":"a@example.com","belong_seat_user":"agent1"}`), nxlinktest.Now, nil, CodeSeatNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := testSimulator()
			status, ans := answerOf(t, sim, signedRequest(tt.body, tt.ts, tt.edit))
			if status != http.StatusOK {
				t.Fatalf("HTTP %d", status)
			}
			if ans["code"] != json.Number(strconv.FormatInt(tt.wantCode, 10)) || ans["data"] != nil {
				t.Errorf("answer %v, want code %d and data null", ans, tt.wantCode)
			}
			if msg, _ := ans["message"].(string); msg == "" || !nxlinktest.TraceID.MatchString(fmt.Sprint(ans["traceId"])) {
				t.Errorf("answer %v: want a message and a traceId", ans)
			}
			if n := len(sim.Customers()); n != 0 {
				t.Errorf("a refused call stored %d customers", n)
			}
		})
	}
}

// What the document allows is accepted: the edges of the clock window, a
// sha256 sign with its algorithm header, a charset on the Content-Type.
func TestSimulatorAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ts   time.Time
		edit func(h http.Header)
	}{
		{"ts 60 s behind", nxlinktest.Now.Add(-60 * time.Second), nil},
		{"ts 60 s ahead", nxlinktest.Now.Add(60 * time.Second), nil},
		{"ts 59 s ahead", nxlinktest.Now.Add(59 * time.Second), nil},
		{"sha256", nxlinktest.Now, func(h http.Header) {
			h.Set("algorithm", "sha256")
			h.Set("sign", signature("sha256", h, []byte(body(1, false, okCustomer)), nxlinktest.Secret))
		}},
		{"algorithm md5 said", nxlinktest.Now, func(h http.Header) { h.Set("algorithm", "md5") }},
		{"a charset", nxlinktest.Now, func(h http.Header) { h.Set("Content-Type", "application/json; charset=utf-8") }},
	}
	for _, tt := range tests {
		sim := testSimulator()
		_, ans := answerOf(t, sim, signedRequest(body(1, false, okCustomer), tt.ts, tt.edit))
		if ans["code"] != json.Number("0") || len(sim.Customers()) != 1 {
			t.Errorf("%s: %v", tt.name, ans)
		}
	}
}

func TestSimulatorHTTP(t *testing.T) {
	t.Parallel()
	sim := testSimulator()
	r := signedRequest(body(1, false, okCustomer), nxlinktest.Now, nil)
	r.URL.Path = "/saas/cdp/openapi/customers/other"
	if status, _ := answerOf(t, sim, r); status != http.StatusNotFound {
		t.Errorf("other path: HTTP %d", status)
	}
	r = signedRequest(body(1, false, okCustomer), nxlinktest.Now, nil)
	r.Method = http.MethodGet
	if status, _ := answerOf(t, sim, r); status != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", status)
	}
	sim.FailNext(2)
	for i := range 3 {
		status, _ := answerOf(t, sim, signedRequest(body(1, false, okCustomer), nxlinktest.Now, nil))
		want := http.StatusServiceUnavailable
		if i == 2 {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("call %d: HTTP %d, want %d", i, status, want)
		}
	}
	calls := sim.Calls()
	if len(calls) != 5 || calls[4].Header.Get("accessKey") != nxlinktest.AccessKey || string(calls[4].Body) != body(1, false, okCustomer) {
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
		{"full_name missing", `{"whats_app_phone":"8618163725558"}`, CodeNameRequired, "full_name is required"},
		{"full_name blank", `{"full_name":"  ","whats_app_phone":"8618163725558"}`, CodeNameRequired, "full_name is required"},
		{"no channel", `{"full_name":"a","country":"China"}`, CodeChannelRequired, "sms_phone, whats_app_phone, email, viber_phone, messenger, instagram, line, zalo cannot all be empty"},
		{"phone not digits", `{"full_name":"a","whats_app_phone":"+86 181"}`, CodeInvalidPhone, "whats_app_phone must be digits only"},
		{"phone with a letter inside", `{"full_name":"a","sms_phone":"181x3725558"}`, CodeInvalidPhone, "sms_phone must be digits only"},
		{"zalo not digits", `{"full_name":"a","email":"a@example.com","zalo":"z1"}`, CodeInvalidPhone, "zalo must be digits only"},
		{"full_name too long", `{"full_name":"` + long(256) + `","email":"a@example.com"}`, CodeTooLong, "full_name exceeds the maximum length of 255 characters"},
		{"full_name too long in characters", `{"full_name":"` + strings.Repeat("é", 256) + `","email":"a@example.com"}`, CodeTooLong, "full_name exceeds the maximum length of 255 characters"},
		{"last_name too long", `{"full_name":"a","email":"a@example.com","last_name":"` + long(129) + `"}`, CodeTooLong, "last_name exceeds the maximum length of 128 characters"},
		{"sms_phone too long", `{"full_name":"a","sms_phone":"` + digits(31) + `"}`, CodeTooLong, "sms_phone exceeds the maximum length of 30 characters"},
		{"messenger too long", `{"full_name":"a","messenger":"` + digits(33) + `"}`, CodeTooLong, "messenger exceeds the maximum length of 32 characters"},
		{"line too long", `{"full_name":"a","line":"` + long(51) + `"}`, CodeTooLong, "line exceeds the maximum length of 50 characters"},
		{"email too long", `{"full_name":"a","email":"` + long(39) + `@example.com"}`, CodeTooLong, "email exceeds the maximum length of 50 characters"},
		{"address too long", `{"full_name":"a","email":"a@example.com","address":"` + long(101) + `"}`, CodeTooLong, "address exceeds the maximum length of 100 characters"},
		{"remark too long", `{"full_name":"a","email":"a@example.com","remark":"` + long(2001) + `"}`, CodeTooLong, "remark exceeds the maximum length of 2000 characters"},
		{"belong_seat_user too long", `{"full_name":"a","email":"a@example.com","belong_seat_user":"` + long(129) + `"}`, CodeTooLong, "belong_seat_user exceeds the maximum length of 128 characters"},
		{"birthday format", `{"full_name":"a","email":"a@example.com","birthday":"1976/04/12"}`, CodeInvalidDate, "birthday must be in the format yyyy-MM-dd"},
		{"weight 6", `{"full_name":"a","email":"a@example.com","weight":6}`, CodeInvalidValue, "weight must be an integer from 1 to 5"},
		{"weight 0", `{"full_name":"a","email":"a@example.com","weight":0}`, CodeInvalidValue, "weight must be an integer from 1 to 5"},
		{"weight a string", `{"full_name":"a","email":"a@example.com","weight":"5"}`, CodeInvalidValue, "weight must be an integer from 1 to 5"},
		{"gender 2", `{"full_name":"a","email":"a@example.com","gender":2}`, CodeInvalidValue, "gender must be 1 (male) or 0 (female)"},
		{"gender a word", `{"full_name":"a","email":"a@example.com","gender":"male"}`, CodeInvalidValue, "gender must be 1 (male) or 0 (female)"},
		{"customize_field an object", `{"full_name":"a","email":"a@example.com","customize_field":{"k":"v"}}`, CodeInvalidValue, "customize_field must be a string"},
		{"customize_field not JSON", `{"full_name":"a","email":"a@example.com","customize_field":"k=v"}`, CodeInvalidValue, "customize_field must be a JSON object as a string"},
		{"phone a number", `{"full_name":"a","whats_app_phone":8618163725558}`, CodeInvalidValue, "whats_app_phone must be a string"},
		{"a field the document does not list", `{"full_name":"a","whatsapp_phone":"8618163725558","email":"a@example.com"}`, CodeInvalidValue, "whatsapp_phone is not a customer field"},
		{"unknown seat, strict", `{"full_name":"a","email":"a@example.com","belong_seat_user":"agent1"}`, CodeSeatNotFound, nxlinktest.SeatAgent1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := testSimulator()
			_, ans := answerOf(t, sim, signedRequest(body(1, true, okCustomer, tt.customer), nxlinktest.Now, nil))
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

// Every field of the document's table, at its limit, is accepted and stored
// as sent.
func TestSimulatorStoresTheDocumentsFields(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("é", n) }
	digits := func(n int) string { return strings.Repeat("1", n) }
	c := map[string]any{
		"full_name": long(255), "first_name": long(128), "last_name": long(128),
		"sms_phone": digits(30), "whats_app_phone": digits(30), "viber_phone": digits(30),
		"messenger": digits(32), "instagram": digits(32), "zalo": digits(32), "line": long(50),
		"country": long(50), "email": strings.Repeat("a", 38) + "@example.com", "address": long(100),
		"birthday": "1976-04-12", "tagStr": "test,99", "remark": long(2000), "time_zone": "GMT+8",
		"gender": json.Number("0"), "customize_field": `{"customize_1_14":"aa"}`, "belong_seat_user": "agent1@example.com",
		"weight": json.Number("5"),
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	sim := testSimulator()
	_, ans := answerOf(t, sim, signedRequest(body(1, true, string(b)), nxlinktest.Now, nil))
	if ans["code"] != json.Number("0") || ans["data"].(map[string]any)["successCount"] != json.Number("1") {
		t.Fatalf("answer %v", ans)
	}
	if got := sim.Customers(); len(got) != 1 || !reflect.DeepEqual(got[0].Fields, c) {
		t.Errorf("stored %+v\nwant %v", got, c)
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
			testSimulator().ServeHTTP(w, signedRequest(tt.body, nxlinktest.Now, nil))
			got, want := testutil.DecodeJSON(t, w.Body.Bytes()), testutil.DecodeJSON(t, nxlinktest.Example(t, tt.file))
			if g, w := shape(got), shape(want); g != w {
				t.Errorf("shape\ngot:  %s\nwant: %s", g, w)
			}
			gotM, wantM := got.(map[string]any), want.(map[string]any)
			delete(gotM, "traceId")
			delete(wantM, "traceId")
			// The trace id is random; everything else is the document's example.
			if !reflect.DeepEqual(gotM, wantM) {
				t.Errorf("answer differs from the document's example\ngot:  %v\nwant: %v", gotM, wantM)
			}
		})
	}
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
			answerOf(t, sim, signedRequest(body(1, false, first), nxlinktest.Now, nil))
			_, ans := answerOf(t, sim, signedRequest(body(tt.typ, false, second, `{"full_name":"by mail","email":"m@example.com"}`), nxlinktest.Now, nil))
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
			r := signedRequest(b, nxlinktest.Now, nil)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+Path, strings.NewReader(b))
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
	sim := New(Config{Now: nxlinktest.Clock, MaxCalls: 2, Delay: time.Millisecond, Accounts: []Account{{
		AccessKey: nxlinktest.AccessKey, AccessSecret: nxlinktest.Secret, TenantID: nxlinktest.TenantID, AppKey: nxlinktest.AppKey}}})
	for i := range 3 {
		b := body(1, false, fmt.Sprintf(`{"full_name":"c","email":"c%d@example.com"}`, i))
		if _, ans := answerOf(t, sim, signedRequest(b, nxlinktest.Now, nil)); ans["code"] != json.Number("0") {
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
	sim.ServeHTTP(w, signedRequest(body(1, false, `{"full_name":"late","email":"late@example.com"}`), nxlinktest.Now, nil).WithContext(ctx))
	if w.Body.Len() != 0 || len(sim.Customers()) != 4 {
		t.Errorf("answered %q, %d customers", w.Body.String(), len(sim.Customers()))
	}
}
