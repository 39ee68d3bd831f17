package wscrm

import (
	"encoding/json"
	"testing"
)

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
