package nxlink

import (
	"encoding/json"
	"slices"
	"testing"

	"crmgate/providers/internal/wirejson"
)

// TestAppendBatchAsMarshal: the appending encoder writes, byte for byte,
// what marshal (encoding/json without HTML escaping) writes, for bodies with
// every field empty and set and strings that need escaping.
func TestAppendBatchAsMarshal(t *testing.T) {
	t.Parallel()
	odd := []string{"", "Li Heng", `quote " back \ slash`, "<a href='x'>&amp;</a>", "tab\tnl\nret\rbs\bff\f",
		"\x00\x01\x1f\x7f", "\u2028\u2029", "\xff\xfe bad utf-8 \xc3", "語言 🙂", "e\u0301"}
	g0, g1 := 0, 1
	var customers []*wireCustomer
	for i, s := range odd {
		w := wireCustomer{FullName: s, FirstName: odd[(i+1)%len(odd)], LastName: odd[(i+2)%len(odd)], SMSPhone: s,
			WhatsAppPhone: "8615266667780", ViberPhone: s, Messenger: s, Instagram: s, Zalo: s, Line: s, Country: s,
			Email: s, Address: s, Birthday: s, TagStr: s, Remark: s, TimeZone: s, CustomizeField: `{"a":"` + s + `"}`,
			BelongSeatUser: s, Weight: i % 6}
		switch i % 3 {
		case 1:
			w.Gender = &g0
		case 2:
			w.Gender = &g1
		}
		customers = append(customers, &w, &wireCustomer{})
	}
	for _, req := range []batchRequest{
		{Type: typeMerge, TenantID: 123, AppKey: "k<>&", StrictBinding: true, Customers: customers},
		{Type: typeReplace, TenantID: -1, AppKey: "", Customers: []*wireCustomer{}},
		{Type: typeKeepExisting},
	} {
		want, err := wirejson.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got := appendBatch(nil, &req)
		if string(got) != string(want) {
			t.Fatalf("appendBatch:\n%s\nmarshal:\n%s", got, want)
		}
	}
	// bodySize holds a body without escapes, within a quarter of it.
	plain := &wireCustomer{FullName: "Li Heng", FirstName: "Heng", LastName: "Li", SMSPhone: "8615266667781",
		WhatsAppPhone: "8615266667780", Country: "CN", Email: "liheng@example.com", Address: "No. 8 Chang'an Avenue, Beijing",
		Birthday: "1990-04-12", TagStr: "VIP,Soldier", Remark: "met at the spring fair", TimeZone: "Asia/Shanghai",
		Gender: &g0, CustomizeField: `{"Faction":"Royal Family","Level":3}`, BelongSeatUser: "seat01"}
	for _, req := range []batchRequest{
		{Type: typeMerge, TenantID: 123, AppKey: "key", Customers: []*wireCustomer{plain}},
		{Type: typeMerge, TenantID: 123, AppKey: "key", Customers: slices.Repeat([]*wireCustomer{plain, {FullName: "x"}}, 50)},
	} {
		got := len(appendBatch(nil, &req))
		if n := bodySize(&req); n < got || n > got*5/4 {
			t.Errorf("%d customers: bodySize %d for %d bytes written", len(req.Customers), n, got)
		}
	}
	for _, v := range []any{"x", "\u2028<>", json.Number("3"), json.Number("-0.5e+10"), json.Number("1.0"), 7, true} {
		want, err := wirejson.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got := appendValue(nil, v)
		if string(got) != string(want) {
			t.Errorf("appendValue(%#v) = %s; marshal gives %s", v, got, want)
		}
	}
}
