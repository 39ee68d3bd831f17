package api

import (
	"encoding/json"
	"reflect"
	"testing"
	"unsafe"
)

// plainBody is an import body of the shape decodePlain takes, with every
// field it reads.
const plainBody = `{"connection":"c1","mode":"merge","strict":false,"strict_owner":true,"all_or_nothing":false,"default_region":"CN",
 "customers":[
  {"ref":"r1","name":"Li Heng","first_name":"Heng","last_name":"Li","gender":"male","birthday":"1990-04-12",
   "whatsapp":"+86 152 0000 0000","phone":"+86 152 0000 0001","email":"liheng@example.com","viber":"v","messenger":"m",
   "instagram":"i","zalo":"z","line":"l","country":"CN","address":"No. 8 Chang'an Avenue, 北京","time_zone":"Asia/Shanghai",
   "profession":"p","income":"i","remarks":"met at the fair","tags":["VIP","Soldier"],"remove_tags":[],"stage":"s",
   "source":"src","language":"zh","welcome_message":"hi","level":3,"owner":"agent1@example.com",
   "custom_fields":{"Faction":"Royal Family","Level":3,"Score":-1.5e3,"Active":true,"Off":false,"Zero":0}},
  {},
  {"whatsapp":"8615200000002","custom_fields":{},"level":0}
 ]}
`

// assertPlainIsStrict fails the test when decodePlain accepts body but the
// strict whole-body decode refuses it or decodes it otherwise.
func assertPlainIsStrict(t *testing.T, body []byte) (accepted bool) {
	t.Helper()
	if checkText(body) != nil {
		return false
	}
	req, cs, ok := decodePlain(body)
	if !ok {
		return false
	}
	wantReq, wantCS, wantOK := decodeWhole(body)
	if !wantOK {
		t.Fatalf("decodePlain accepted what the strict decode refuses: %q", body)
	}
	if !reflect.DeepEqual(req, wantReq) {
		t.Fatalf("request %+v, the strict decode's %+v, for %q", req, wantReq, body)
	}
	if !reflect.DeepEqual(cs, wantCS) {
		t.Fatalf("records\n%#v\nthe strict decode's\n%#v\nfor %q", cs, wantCS, body)
	}
	return true
}

// TestDecodePlainShapes: what decodePlain takes it decodes as the strict
// decoder does, and what it leaves to the strict decoders it leaves whole.
func TestDecodePlainShapes(t *testing.T) {
	accept := []string{
		plainBody,
		`{"customers":[]}`,
		` { "customers" : [ { "ref" : "a" } ] } ` + "\n",
		`{"customers":[{"level":12,"tags":["a"]}],"connection":"x"}`,
		`{"customers":[{"custom_fields":{"n":0.5,"m":-0,"e":1E+2}}]}`,
	}
	for _, body := range accept {
		if !assertPlainIsStrict(t, []byte(body)) {
			t.Errorf("decodePlain left to the slower decoders: %s", body)
		}
	}
	leave := []string{
		`{}`,                                    // no customers
		`{"customers":null}`,                    // null
		`{"customers":[{"ref":null}]}`,          // null
		`{"customers":[{"ref":"a\"b"}]}`,        // escape
		`{"customers":[{"ref":"a\u0000"}]}`,     // escape
		"{\"customers\":[{\"ref\":\"a\tb\"}]}",  // control character
		`{"customers":[{"Ref":"a"}]}`,           // case variant
		`{"customers":[{"nick":"a"}]}`,          // unknown key
		`{"customers":[{"ref":"a","ref":"b"}]}`, // duplicate
		`{"customers":[],"customers":[]}`,       // duplicate envelope key
		`{"customers":[{"custom_fields":{"a":1,"a":2}}]}`,
		`{"customers":[{"custom_fields":{"a":[1]}}]}`,
		`{"customers":[{"custom_fields":{"a":{"b":1}}}]}`,
		`{"customers":[{"custom_fields":{"a":null}}]}`,
		`{"customers":[{"custom_fields":{"a":01}}]}`,
		`{"customers":[{"level":1.0}]}`,
		`{"customers":[{"level":-1}]}`,
		`{"customers":[{"level":"3"}]}`,
		`{"customers":[{"level":01}]}`,
		`{"customers":[{"tags":"a"}]}`,
		`{"customers":[{"tags":[1]}]}`,
		`{"customers":[{"ref":1}]}`,
		`{"customers":[1]}`,
		`{"customers":[{"ref":"a"},]}`,
		`{"customers":[{"ref":"a",}]}`,
		`{"customers":[]} {}`,
		`{"customers":[]}x`,
		`{"strict":"yes","customers":[]}`,
		`{"strict":tru,"customers":[]}`,
		`{"strict":truex,"customers":[]}`,
		`{"customers":[{"ref":"a"}]`,
		`{"customers":[{"ref":"a`,
		`[]`,
	}
	for _, body := range leave {
		if _, _, ok := decodePlain([]byte(body)); ok {
			t.Errorf("decodePlain took %s", body)
		}
	}
}

// TestDecodeImportSharesOneCopy: the records' strings point into the body
// itself, not into a copy or an allocation each.
func TestDecodeImportSharesOneCopy(t *testing.T) {
	body := []byte(plainBody)
	_, cs, ok := decodePlain(body)
	if !ok || len(cs) == 0 || cs[0].Ref == "" {
		t.Fatalf("refused or no ref: %v %d", ok, len(cs))
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
	if p := uintptr(unsafe.Pointer(unsafe.StringData(cs[0].Ref))); p < start || p >= start+uintptr(len(body)) {
		t.Errorf("the first record's ref is not a part of the body")
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, ok := decodePlain(body); !ok {
			t.Fatal("refused")
		}
	})
	// The records, two tag lists, two maps and their members'
	// boxes, one level and the request's placeholder list: far fewer than
	// the 40-odd strings.
	if allocs > 25 {
		t.Errorf("%.0f allocations for three records; the strings should share one copy of the body", allocs)
	}
}

// FuzzDecodePlainIsStrict: for any body, decodePlain either leaves it to
// the strict decoders or decodes exactly what the strict whole-body decode
// does.
func FuzzDecodePlainIsStrict(f *testing.F) {
	f.Add([]byte(plainBody))
	f.Add([]byte(`{"customers":[{"ref":"a","custom_fields":{"x":1}}]}`))
	f.Add([]byte(oneRecord))
	for _, shape := range []string{`{"customers":[{"level":7}]}`, `{"customers":[{"tags":[]}],"strict":true}`} {
		f.Add([]byte(shape))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		assertPlainIsStrict(t, body)
	})
}

// Records as encoding/json writes them (the bench workload's, and most
// callers' encoders) take the plain path.
func TestDecodePlainTakesEncodedRecords(t *testing.T) {
	_, cs, ok := decodeWhole([]byte(plainBody))
	if !ok {
		t.Fatal("the strict decode refused plainBody")
	}
	body, err := json.Marshal(map[string]any{"connection": "c", "mode": "merge", "customers": cs})
	if err != nil {
		t.Fatal(err)
	}
	if !assertPlainIsStrict(t, body) {
		t.Errorf("encoding/json's encoding of records is left to the slower decoders: %s", body)
	}
}
