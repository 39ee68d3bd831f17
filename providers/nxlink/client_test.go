package nxlink

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/gateway"
	"crmgate/schema"
)

// twoCustomers are two valid canonical customers; owners as given.
func twoCustomers(owner0, owner1 string) []schema.Customer {
	return []schema.Customer{
		{Name: "zhang san", WhatsApp: "8618163725558", Owner: owner0},
		{Name: "li si", WhatsApp: "8618135539411", Owner: owner1},
	}
}

func planOne(t *testing.T, a *Adapter, op gateway.Op, cs []schema.Customer) *gateway.Call {
	t.Helper()
	calls, err := a.Plan(op, records(t, a, op, cs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("got %d calls", len(calls))
	}
	return &calls[0]
}

// The document's three answer examples, served as they are, map to the
// right outcomes.
func TestDoMapsDocumentAnswers(t *testing.T) {
	t.Parallel()
	seatFail := schema.Issue{Code: schema.CodeOwnerNotFound, Field: schema.FieldOwner, ProviderCode: "12148", ProviderMessage: nxlinktest.SeatAgent1}
	itemFail, callFail := seatFail, seatFail
	itemFail.Message = "the owner is not a seat of this NXLink account"
	callFail.Message = "NXLink refused the whole call: a seat (owner) of the call does not exist"
	tests := []struct {
		file    string
		want    []gateway.Outcome
		code    string
		traceID string
	}{
		{"answer_success.json", []gateway.Outcome{
			{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"},
			{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775937"},
		}, "0", "56bf81643292cd6a89ecde64ae00db13"},
		{"answer_partial.json", []gateway.Outcome{
			{Status: gateway.StatusSucceeded, ProviderID: "1214631327620775936"},
			{Status: gateway.StatusFailed, Errors: []schema.Issue{itemFail}},
		}, "0", "de31e85fdcc9489f9a7b8c99193b9a93"},
		{"answer_failure.json", []gateway.Outcome{
			{Status: gateway.StatusFailed, Errors: []schema.Issue{callFail}},
			{Status: gateway.StatusFailed, Errors: []schema.Issue{callFail}},
		}, "12148", "4516857e03a84c4cbe1339a93f24a1b6"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			answer := nxlinktest.Example(t, tt.file)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(answer)
			}))
			t.Cleanup(srv.Close)
			a := newTestAdapter(t, srv.URL, testConfig(), srv.Client())
			res, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Outcomes, tt.want) {
				t.Errorf("outcomes\ngot:  %+v\nwant: %+v", res.Outcomes, tt.want)
			}
			if res.Report.ProviderCode != tt.code || res.Report.TraceID != tt.traceID || res.Report.HTTPStatus != 200 || res.Report.Note != "" {
				t.Errorf("report %+v", res.Report)
			}
		})
	}
}

func TestMapAnswer(t *testing.T) {
	t.Parallel()
	unknown := gateway.Outcome{Status: gateway.StatusUnknown, Errors: []schema.Issue{{Code: schema.CodeProviderUnavailable,
		Message: "NXLink's answer lists this record neither as a success nor as a failure"}}}
	tests := []struct {
		name     string
		n        int
		status   int
		body     string
		want     []gateway.Outcome
		wantNote string
		wantErr  error
	}{
		{
			name: "a record in neither list is unknown", n: 3, status: 200,
			body: `{"code":0,"message":null,"traceId":"t","data":{"totalCount":3,"successCount":1,"failCount":1,
				"failItems":[{"index":2,"errorCode":13003,"errorMessage":"sms_phone must be digits only"}],
				"successItems":[{"index":0,"customerId":9007199254740993,"whatsAppPhone":"1"}]}}`,
			want: []gateway.Outcome{
				{Status: gateway.StatusSucceeded, ProviderID: "9007199254740993"},
				unknown,
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeInvalidPhone, Field: schema.FieldPhone,
					Message: "sms_phone must be digits only", ProviderCode: "13003", ProviderMessage: "sms_phone must be digits only"}}},
			},
			wantNote: "1 of 3 records are in neither successItems nor failItems",
		},
		{
			name: "out-of-range and repeated indexes are noted, not applied", n: 1, status: 200,
			body: `{"code":0,"traceId":"t","data":{"totalCount":1,"failItems":[{"index":5,"errorCode":1,"errorMessage":"x"}],
				"successItems":[{"index":0,"customerId":1},{"index":0,"customerId":2}]}}`,
			want:     []gateway.Outcome{{Status: gateway.StatusSucceeded, ProviderID: "1"}},
			wantNote: `index 0 is listed twice; index "5" is not a record of the call`,
		},
		{
			name: "an unknown per-item code is provider_rejected", n: 1, status: 200,
			body: `{"code":0,"traceId":"t","data":{"totalCount":1,"failItems":[{"index":0,"errorCode":99,"errorMessage":"no"}],"successItems":[]}}`,
			want: []gateway.Outcome{{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeProviderRejected,
				Message: "NXLink refused the record: no", ProviderCode: "99", ProviderMessage: "no"}}}},
		},
		{
			name: "per-item codes of the simulator", n: 4, status: 200,
			body: `{"code":0,"traceId":"t","data":{"totalCount":4,"successItems":[],"failItems":[
				{"index":0,"errorCode":13001,"errorMessage":"full_name is required"},
				{"index":1,"errorCode":13004,"errorMessage":"remark exceeds the maximum length of 2000 characters"},
				{"index":2,"errorCode":13005,"errorMessage":"birthday must be in the format yyyy-MM-dd"},
				{"index":3,"errorCode":13002,"errorMessage":"none"}]}}`,
			want: []gateway.Outcome{
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeRequired, Field: schema.FieldName, Message: "full_name is required", ProviderCode: "13001", ProviderMessage: "full_name is required"}}},
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeTooLong, Field: schema.FieldRemarks, Message: "remark exceeds the maximum length of 2000 characters", ProviderCode: "13004", ProviderMessage: "remark exceeds the maximum length of 2000 characters"}}},
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeInvalidDate, Field: schema.FieldBirthday, Message: "birthday must be in the format yyyy-MM-dd", ProviderCode: "13005", ProviderMessage: "birthday must be in the format yyyy-MM-dd"}}},
				{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeRequired, Field: schema.FieldWhatsApp, Message: "none", ProviderCode: "13002", ProviderMessage: "none"}}},
			},
		},
		{
			name: "another whole-call code is provider_rejected", n: 1, status: 200,
			body: `{"code":10004,"message":"sign is not valid","traceId":"t","data":null}`,
			want: []gateway.Outcome{{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeProviderRejected,
				Message: "NXLink refused the whole call: sign is not valid", ProviderCode: "10004", ProviderMessage: "sign is not valid"}}}},
		},
		{
			name: "a per-item code at the top level is still provider_rejected", n: 1, status: 200,
			body: `{"code":13001,"message":"full_name is required","traceId":"t","data":null}`,
			want: []gateway.Outcome{{Status: gateway.StatusFailed, Errors: []schema.Issue{{Code: schema.CodeProviderRejected,
				Message: "NXLink refused the whole call: full_name is required", ProviderCode: "13001", ProviderMessage: "full_name is required"}}}},
		},
		{name: "not JSON", n: 1, status: 200, body: `<html>oops</html>`, wantErr: ErrBadAnswer},
		{name: "no code", n: 1, status: 200, body: `{"data":null}`, wantErr: ErrBadAnswer},
		{name: "code 0 without data", n: 1, status: 200, body: `{"code":0,"data":null}`, wantErr: ErrBadAnswer},
		{name: "a 4xx with code 0", n: 1, status: 400, body: `{"code":0,"data":{}}`, wantErr: ErrBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := mapAnswer(tt.n, tt.status, []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if errors.Is(err, gateway.ErrUnavailable) {
					t.Errorf("an unreadable answer must not be retried: %v", err)
				}
				return
			}
			if !reflect.DeepEqual(res.Outcomes, tt.want) {
				t.Errorf("outcomes\ngot:  %+v\nwant: %+v", res.Outcomes, tt.want)
			}
			if res.Report.Note != tt.wantNote {
				t.Errorf("note %q, want %q", res.Report.Note, tt.wantNote)
			}
		})
	}
}

// userMessage fails the test when err's message, which the import service
// shows in the records' messages, names a Go identifier of this package.
func userMessage(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "nxlink.") {
		t.Errorf("the message names a Go identifier: %v", err)
	}
}

func TestDoUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("transport error", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		a := newTestAdapter(t, url, testConfig(), nil)
		_, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
		if !errors.Is(err, gateway.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		userMessage(t, err)
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		a := newTestAdapter(t, srv.URL, testConfig(), srv.Client())
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := a.Do(ctx, planOne(t, a, importOp, twoCustomers("", "")))
		if !errors.Is(err, gateway.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("non-JSON 200 is not retried", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
		t.Cleanup(srv.Close)
		a := newTestAdapter(t, srv.URL, testConfig(), srv.Client())
		res, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
		if !errors.Is(err, ErrBadAnswer) || errors.Is(err, gateway.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrBadAnswer only", err)
		}
		userMessage(t, err)
		if res.Report.HTTPStatus != 200 {
			t.Errorf("report %+v", res.Report)
		}
	})
	t.Run("a 4xx without a code is unreadable, not retried", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "<html>bad request</html>", http.StatusBadRequest)
		}))
		t.Cleanup(srv.Close)
		a := newTestAdapter(t, srv.URL, testConfig(), srv.Client())
		res, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
		var pe *gateway.ProviderError
		if !errors.Is(err, ErrBadAnswer) || errors.Is(err, gateway.ErrUnavailable) || !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
			t.Fatalf("err = %v, want ErrBadAnswer and the ProviderError of HTTP 400, not retryable", err)
		}
		userMessage(t, err)
		if res.Report.HTTPStatus != http.StatusBadRequest || res.Outcomes != nil {
			t.Errorf("result %+v", res)
		}
	})
	t.Run("a 4xx with a code fails every record", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":10001,"message":"header sign is required","traceId":"t","data":null}`))
		}))
		t.Cleanup(srv.Close)
		a := newTestAdapter(t, srv.URL, testConfig(), srv.Client())
		res, err := a.Do(context.Background(), planOne(t, a, importOp, twoCustomers("", "")))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outcomes) != 2 || res.Outcomes[1].Status != gateway.StatusFailed || res.Outcomes[1].Errors[0].ProviderCode != "10001" ||
			res.Report.ProviderCode != "10001" || res.Report.HTTPStatus != http.StatusBadRequest {
			t.Errorf("result %+v", res)
		}
	})
}
