package strictjson

import (
	"reflect"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

// TestObjectOfValuesIsDefault: a map[string]any decodes, through the
// object-of-values decoder, to what the default decoding with json.Number
// gives, and what the default refuses is still refused.
func TestObjectOfValuesIsDefault(t *testing.T) {
	t.Parallel()
	type rec struct {
		Name   string         `json:"name"`
		Fields map[string]any `json:"fields"`
	}
	byDefault := jsonv2.JoinOptions(jsonv2.RejectUnknownMembers(true), jsonv2.WithUnmarshalers(keepNumbers))
	for _, in := range []string{
		`{"name":"a","fields":{"s":"x","n":3,"f":-1.50e3,"t":true,"b":false,"z":null}}`,
		`{"fields":{"arr":[1,"two",[3],{"k":4.0}],"obj":{"n":12345678901234567890,"e":{}}}}`,
		`{"fields":{}}`,
		`{"fields":null}`,
		`{"fields":{"\u00e9":"\ud83d\ude00","a\"b":"c"}}`,
		// refused
		`{"fields":{"a":1,"a":2}}`,
		`{"fields":{"a":{"b":1,"b":2}}}`,
		`{"fields":{"a":"` + "\xff" + `"}}`,
		`{"fields":{"a":"\ud800"}}`,
		`{"fields":[1]}`,
		`{"fields":"x"}`,
		`{"fields":{"a":1,}}`,
		`{"fields":{"a":1}`,
		`{"fields":{"a":1},"other":1}`,
	} {
		var got, want rec
		gotErr := Unmarshal([]byte(in), &got)
		wantErr := jsonv2.Unmarshal([]byte(in), &want, byDefault)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: error %v, by default %v", in, gotErr, wantErr)
			continue
		}
		if gotErr != nil {
			if Message(gotErr) != Message(wantErr) {
				t.Errorf("%s: message %q, by default %q", in, Message(gotErr), Message(wantErr))
			}
			_, _, gotDup := IsDuplicate(gotErr)
			_, _, wantDup := IsDuplicate(wantErr)
			if gotDup != wantDup {
				t.Errorf("%s: duplicate %v, by default %v", in, gotDup, wantDup)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %#v, by default %#v", in, got, want)
		}
	}
}
