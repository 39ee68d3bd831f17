package gateway

import (
	"reflect"
	"testing"

	"crmgate/internal/plainrecord"
	"crmgate/schema"
)

// FuzzDecodeRecord: any record decodes, or fails with at least one issue
// that is invalid_value or unknown_field; it never panics.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"whatsapp":"8615266667780","name":"Li Heng","tags":["VIP"],"level":3,"custom_fields":{"Faction":"Royal Family"}}`), false)
	f.Fuzz(func(t *testing.T, raw []byte, strict bool) {
		c, errs, warns := decodeRecord(raw, strict)
		if c == nil && len(errs) == 0 {
			t.Fatal("no record and no error")
		}
		for _, is := range append(errs, warns...) {
			if (is.Code != schema.CodeInvalidValue && is.Code != schema.CodeUnknownField) || is.Message == "" {
				t.Fatalf("issue %+v", is)
			}
		}
	})
}

// plainRecords are records of the plain shape, as callers' encoders and
// import jobs' rows write them.
var plainRecords = []string{
	`{"whatsapp":"8615266667780","name":"Li Heng","tags":["VIP"],"level":3,"custom_fields":{"Faction":"Royal Family"}}`,
	`{"ref":"r1","name":"Li Heng","first_name":"Heng","last_name":"Li","gender":"male","birthday":"1990-04-12",
	  "whatsapp":"+86 152 0000 0000","phone":"+86 152 0000 0001","email":"liheng@example.com","viber":"v","messenger":"m",
	  "instagram":"i","zalo":"z","line":"l","country":"CN","address":"No. 8 Chang'an Avenue, 北京","time_zone":"Asia/Shanghai",
	  "profession":"p","income":"i","remarks":"met at the fair","tags":["VIP","Soldier"],"remove_tags":[],"stage":"s",
	  "source":"src","language":"zh","welcome_message":"hi","level":3,"owner":"agent1@example.com",
	  "custom_fields":{"Faction":"Royal Family","Level":3,"Score":-1.5e3,"Active":true,"Off":false,"Zero":0}}`,
	`{}`,
	`{"custom_fields":{"Joined":"2021-06-01","Level":3},"name":"Feng","ref":"row-2","whatsapp":"8615200000002"}`,
}

// TestDecodeRecordPlainShapes: the plain reader takes the plain shape and
// decodes it as the strict decoder does, and leaves everything else to it.
func TestDecodeRecordPlainShapes(t *testing.T) {
	for _, raw := range plainRecords {
		if !assertPlainRecordIsStrict(t, []byte(raw)) {
			t.Errorf("left to the strict decoder: %s", raw)
		}
	}
	for _, raw := range []string{
		`{"name":"Li \"Heng\""}`,                // an escape
		`{"name":"a","name":"b"}`,               // a key twice
		`{"Name":"a"}`,                          // a key of another case
		`{"nickname":"a"}`,                      // an unknown key
		`{"name":null}`,                         // null
		`{"level":3.5}`,                         // a level that is not an integer
		`{"custom_fields":{"Interests":["a"]}}`, // a nested custom value
		`{"custom_fields":{"a":1,"a":2}}`,       // a custom key twice
		"{\"name\":\"\xff\"}",                   // not UTF-8
		`{"name":"a"} {}`,                       // something after the record
		`[]`,                                    // not an object
	} {
		if _, ok := plainrecord.Decode([]byte(raw)); ok {
			t.Errorf("the plain reader took %s", raw)
		}
		c, errs, _ := decodeRecord([]byte(raw), false)
		wc, werrs, _ := decodeRecordStrictly([]byte(raw), false)
		if !reflect.DeepEqual(c, wc) || !reflect.DeepEqual(errs, werrs) {
			t.Errorf("%s: decodeRecord %+v %v, the strict decoder %+v %v", raw, c, errs, wc, werrs)
		}
	}
}

// TestDecodeRecordSharesNoCallerBytes: a plainly decoded record's strings
// do not change when the caller's bytes do afterwards.
func TestDecodeRecordSharesNoCallerBytes(t *testing.T) {
	raw := []byte(`{"name":"Li Heng"}`)
	c, _, _ := decodeRecord(raw, false)
	copy(raw[9:], "XXXXXXX")
	if c == nil || c.Name != "Li Heng" {
		t.Fatalf("record %+v after the caller's bytes changed", c)
	}
}

// assertPlainRecordIsStrict fails the test when the plain reader accepts raw
// but the strict decoder refuses it or decodes it otherwise, strict or not.
func assertPlainRecordIsStrict(t *testing.T, raw []byte) (accepted bool) {
	t.Helper()
	c, ok := plainrecord.Decode(raw)
	if !ok {
		return false
	}
	for _, strict := range []bool{false, true} {
		want, errs, warns := decodeRecordStrictly(raw, strict)
		if want == nil || len(errs) > 0 || len(warns) > 0 {
			t.Fatalf("the plain reader accepted what the strict decoder refuses (strict %v: %v %v): %q", strict, errs, warns, raw)
		}
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("record\n%#v\nthe strict decoder's\n%#v\nfor %q", c, want, raw)
		}
	}
	return true
}

// FuzzPlainRecordIsStrict: for any record, the plain reader either leaves it
// to the strict decoder or decodes exactly what the strict decoder does.
func FuzzPlainRecordIsStrict(f *testing.F) {
	for _, raw := range plainRecords {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		assertPlainRecordIsStrict(t, raw)
	})
}
