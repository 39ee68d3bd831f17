package nxlink

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// plainAnswers are answers of the shape the document gives: a success, a
// partial failure and a whole-call refusal.
var plainAnswers = []string{
	`{"code":0,"message":"success","traceId":"t-1","data":{"totalCount":2,"successCount":2,"failCount":0,"failItems":[],
	  "successItems":[{"index":0,"customerId":1214631327620775936,"whatsAppPhone":"8615200000000"},{"index":1,"customerId":7,"whatsAppPhone":"8615200000001"}]}}`,
	`{"code":0,"message":null,"traceId":"t-2","data":{"totalCount":2,"successCount":1,"failCount":1,
	  "failItems":[{"index":1,"errorCode":40001,"errorMessage":"手机号格式错误"}],"successItems":[{"index":0,"customerId":8,"whatsAppPhone":"1"}]}}`,
	`{"code":40003,"message":"app key invalid","traceId":"t-3","data":null}`,
	`{"code":0,"traceId":"t-4","data":{"totalCount":0,"failItems":null,"successItems":null}}`,
}

// oldDecode is how every answer was decoded before the plain reader.
func oldDecode(body []byte) (batchResponse, error) {
	var ans batchResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&ans)
	return ans, err
}

func assertPlainAnswerIsJSON(t *testing.T, body []byte) bool {
	t.Helper()
	got, ok := decodePlainAnswer(body)
	if !ok {
		return false
	}
	want, err := oldDecode(body)
	if err != nil {
		t.Fatalf("the plain reader took what encoding/json refuses (%v): %q", err, body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the plain reader gave\n%#v\nencoding/json\n%#v\nfor %q", got, want, body)
	}
	return true
}

// TestPlainAnswerShapes: the document's shapes take the plain reader and
// decode as encoding/json decodes them; the others are left to it, and
// decodeAnswer still decodes them as before.
func TestPlainAnswerShapes(t *testing.T) {
	for _, body := range plainAnswers {
		if !assertPlainAnswerIsJSON(t, []byte(body)) {
			t.Errorf("left to encoding/json: %s", body)
		}
	}
	for _, body := range []string{
		`{"Code":0,"data":null}`,            // another case
		`{"code":0,"code":1}`,               // twice
		`{"code":"0"}`,                      // a quoted number
		`{"code":0,"extra":{"a":1}}`,        // an unknown member
		`{"code":0,"traceId":"a\"b"}`,       // an escape
		`{"code":0} trailing`,               // after the value
		"{\"code\":0,\"traceId\":\"\xff\"}", // invalid UTF-8
		`{"code":0,"traceId":null}`,         // null where a string is
		`{"code":0,"data":{"successItems":[{"index":0,"customerId":1,"whatsAppPhone":null}]}}`,
		`null`,
	} {
		if _, ok := decodePlainAnswer([]byte(body)); ok {
			t.Errorf("the plain reader took %s", body)
		}
		got, gotErr := decodeAnswer([]byte(body))
		want, wantErr := oldDecode([]byte(body))
		if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("decodeAnswer(%s) = %#v, %v; encoding/json: %#v, %v", body, got, gotErr, want, wantErr)
		}
	}
}

// FuzzPlainAnswerIsJSON: whatever the plain reader takes, it decodes as
// encoding/json does.
func FuzzPlainAnswerIsJSON(f *testing.F) {
	for _, body := range plainAnswers {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		assertPlainAnswerIsJSON(t, body)
	})
}

func BenchmarkDecodeAnswer(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"code":0,"message":"success","traceId":"t","data":{"totalCount":100,"successCount":100,"failCount":0,"failItems":[],"successItems":[`)
	for i := range 100 {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`{"index":` + strconv.Itoa(i) + `,"customerId":1214631327620775936,"whatsAppPhone":"8615200000000"}`)
	}
	buf.WriteString(`]}}`)
	body := buf.Bytes()
	for _, dec := range []struct {
		name string
		fn   func([]byte) (batchResponse, error)
	}{{"plain", decodeAnswer}, {"encoding-json", oldDecode}} {
		b.Run(dec.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec.fn(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
