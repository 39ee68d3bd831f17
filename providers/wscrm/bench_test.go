package wscrm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/wiretest"
	"crmgate/schema"
)

// benchCustomers are 10 000 canonical records with most WSCRM fields set.
func benchCustomers() []schema.Customer {
	out := make([]schema.Customer, 10000)
	for i := range out {
		out[i] = schema.Customer{
			Owner: "kubrick101", WhatsApp: fmt.Sprintf("86152%08d", i), Name: "Feng Changqing", Gender: "male",
			Birthday: "2020-03-08", Address: "Chang'an", Email: "fengchangqing@tang.com", Profession: "Military Governor",
			Income: "100 gold", Tags: []string{"Soldier", "Strategy"}, Stage: "New customer", Source: "System assignment",
			Language: "Auto", CustomFields: map[string]any{"Faction": "Guanlong Group", "extensionField1": "value", "Level": json.Number("3")},
		}
	}
	return out
}

// BenchmarkTranslatePlan10k measures Translate and Plan (one marshal) of
// 10 000 records; BenchmarkDecodeEncode10k is the JSON round trip of the
// same canonical records, the pipeline promise's yardstick.
func BenchmarkTranslatePlan10k(b *testing.B) {
	a, err := New(gateway.Common{ID: "bench-wscrm", BaseURL: "http://wscrm.invalid"}, &Config{TenantID: 82}, &http.Client{})
	if err != nil {
		b.Fatal(err)
	}
	rules := sampleRules()
	cs := benchCustomers()
	ks := make([]fieldconfig.Checked, len(cs))
	for i := range cs {
		ks[i] = wiretest.Prepared(b, cs[i], rules)
	}
	b.ReportAllocs()
	for b.Loop() {
		recs := make([]gateway.Record, len(ks))
		for i := range ks {
			w, _, _ := a.Translate(importOp, ks[i])
			recs[i] = gateway.Record{Index: i, Customer: ks[i].Customer(), Wire: w}
		}
		if _, err := a.Plan(importOp, recs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEncode10k(b *testing.B) {
	raw, err := json.Marshal(benchCustomers())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var cs []schema.Customer
		if err := json.Unmarshal(raw, &cs); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(cs); err != nil {
			b.Fatal(err)
		}
	}
}
