package wscrm

import (
	"encoding/json"
	"testing"
)

// appendJSONString writes what encoding/json writes without HTML escaping.
func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "line\nbreak\r\ttab", "\x00\x01\x1f control",
		"<html> & 'amp'", "Chang'an 长安", "emoji 🐉", "bad utf-8 \xff\xfe end", "\u2028 and \u2029", "\x7f del",
	} {
		want, err := marshalBody(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestWireRecordJSON(t *testing.T) {
	t.Parallel()
	r := &wireRecord{ext: []wireExt{{"Level", json.Number("12.5")}, {"Odd", json.Number("NaN")}, {"note", "a\"b"}}}
	r.basic[keyAgentAccount], r.basic[keyWhatsApp], r.basic[keyDesc] = "kubrick101", "8615266667780", "x\ny"
	got := appendImportBody(nil, 82, []*wireRecord{r, {}})
	want := `{"tenantId":82,"data":[{"agentAccount":"kubrick101","whatsApp":"8615266667780","desc":"x\ny","Level":12.5,"Odd":"NaN","note":"a\"b"},{}]}`
	if string(got) != want {
		t.Fatalf("body = %s\nwant   %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("not JSON")
	}
}
