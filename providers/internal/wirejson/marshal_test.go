package wirejson

import (
	"encoding/json"
	"testing"
)

func TestMarshalKeepsHTMLAndDropsTheNewline(t *testing.T) {
	t.Parallel()
	got, err := Marshal(map[string]any{"a": "<b> & c", "n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"<b> & c","n":1}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if _, err := Marshal(func() {}); err == nil {
		t.Error("Marshal of a func: no error")
	}
}

func TestTextReadsAnyJSONValue(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Text{
		`"a\nb"`:         "a\nb",
		`12`:             "12",
		`-1.5e3`:         "-1.5e3",
		`true`:           "true",
		`null`:           "",
		`[ "x" , 1 ]`:    `["x",1]`,
		`{"k": [1, 2] }`: `{"k":[1,2]}`,
		`"200"`:          "200",
		`""`:             "",
	} {
		var v struct {
			T Text `json:"t"`
		}
		if err := json.Unmarshal([]byte(`{"t":`+in+`}`), &v); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if v.T != want {
			t.Errorf("%s read as %q, want %q", in, v.T, want)
		}
	}
	var absent struct {
		T Text `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{}`), &absent); err != nil || absent.T != "" {
		t.Errorf("absent: %q, %v", absent.T, err)
	}
}

func TestTextInt64(t *testing.T) {
	t.Parallel()
	for in, want := range map[Text]struct {
		n  int64
		ok bool
	}{
		"200": {200, true}, " -1 ": {-1, true}, "": {0, false}, "1.5": {0, false}, "x": {0, false},
		"9223372036854775807": {9223372036854775807, true}, "9223372036854775808": {0, false},
	} {
		if n, ok := in.Int64(); n != want.n || ok != want.ok {
			t.Errorf("%q.Int64() = %d, %v; want %d, %v", in, n, ok, want.n, want.ok)
		}
	}
}
