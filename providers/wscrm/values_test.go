package wscrm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The one reader of each kind of value, for the query and the webhooks.
func TestValueReaders(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"male": "male", "MALE": "male", " Female ": "female", "UNKOWNN": "unknown", "UNKNOWN": "unknown",
		"unknow": "unknown", "unknown": "unknown", "Other": "other", "": "",
	} {
		if got := canonicalGender(in); got != want {
			t.Errorf("canonicalGender(%q) = %q, want %q", in, got, want)
		}
	}
	for _, tt := range []struct{ in, layout, want string }{
		{"2020/03/08", "", "2020-03-08"},
		{"2020-03-08", "", "2020-03-08"},
		{" 2020-03-08 10:11:12", "", "2020-03-08"},
		{"2020/03/08T10:11:12", "", "2020-03-08"},
		{"01.02.2021", "02.01.2006", "2021-02-01"},
		{"01.02.2021", "", "01.02.2021"},
		{"2020-02-30", "", "2020-02-30"},
		{"someday", "", "someday"},
		{"", "", ""},
	} {
		if got := canonicalDay(tt.in, tt.layout); got != tt.want {
			t.Errorf("canonicalDay(%q, %q) = %q, want %q", tt.in, tt.layout, got, tt.want)
		}
	}
	var nested any
	if err := json.Unmarshal([]byte(`["VIP",["Soldier","Strategy"],"",null,7," a, b "]`), &nested); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   any
		want []string
	}{
		{nil, []string{}},
		{"", []string{}},
		{"[]", []string{}},
		{"Tag 1,Tag 2", []string{"Tag 1", "Tag 2"}},
		{"[Tag 1,Tag 2]", []string{"Tag 1", "Tag 2"}},
		{`["a, b"]`, []string{"a, b"}},
		{"http://1.img, ,http://2.img", []string{"http://1.img", "http://2.img"}},
		{nested, []string{"VIP", "Soldier", "Strategy", "7", "a, b"}},
		{json.Number("12"), []string{"12"}},
		{true, []string{}},
	} {
		if got := listOf(tt.in); got == nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("listOf(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
