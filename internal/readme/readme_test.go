package readme

import (
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestCurls(t *testing.T) {
	t.Parallel()
	md := "Text.\n\n```sh\ngo run .\ncurl -s http://h/v1/customers \\\n  -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n" +
		"  -d '{\"a\":\"it''s\"}'\n```\n\n```yaml\ncurl: not a command\n```\n\n```sh\ncurl -s http://h/v1/imports -H \"X-A: \\\"q\\\"\" \\\n  -F 'options={};type=application/json' \\\n  -F file=@contacts.csv\n```\n"
	got, err := Curls([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	want := []Curl{
		{Method: http.MethodPost, URL: "http://h/v1/customers", Body: `{"a":"its"}`,
			Header: http.Header{"Authorization": {"Bearer $TOKEN"}, "Content-Type": {"application/json"}}},
		{Method: http.MethodPost, URL: "http://h/v1/imports", Header: http.Header{"X-A": {`"q"`}},
			Form: []string{"options={};type=application/json", "file=@contacts.csv"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestCurlsRefuses(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{
		"curl -s http://h -o out.json",
		"curl -s -H",
		"curl -s -d 'x",
		"curl -s -H 'no colon' http://h",
		"curl -s",
	} {
		if _, err := Curls([]byte("```sh\n" + cmd + "\n```\n")); err == nil {
			t.Errorf("%s: no error", cmd)
		}
	}
}

// The repository's README parses, with its curl examples.
func TestTheREADME(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Curls(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 3 || !strings.HasSuffix(got[0].URL, "/v1/customers") {
		t.Fatalf("%d examples: %+v", len(got), got)
	}
}
