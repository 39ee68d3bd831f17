package nxlink

import (
	"net/http"
	"testing"

	"crmgate/providers/internal/wiretest"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

var importOp = gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}

func testConfig() Config {
	return Config{AccessKey: nxlinktest.AccessKey, AccessSecret: nxlinktest.Secret, TenantID: nxlinktest.TenantID, AppKey: nxlinktest.AppKey}
}

// newTestAdapter makes an adapter for baseURL with the fixed clock.
func newTestAdapter(t testing.TB, baseURL string, cfg Config, hc *http.Client) *Adapter {
	t.Helper()
	if hc == nil {
		hc = &http.Client{}
	}
	a, err := New(gateway.Common{ID: "test-nxlink", Provider: Name, BaseURL: baseURL}, &cfg, hc)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.Now = nxlinktest.Clock
	return a
}

// testRules is a field configuration with the document's customize_1_14.
var testRules = fieldconfig.MustCompile(fieldconfig.Config{
	Required: []string{"name"},
	CustomFields: []fieldconfig.CustomField{
		{Name: "Nickname", Type: fieldconfig.TypeText, ProviderKey: "customize_1_14"},
		{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"Guanlong Group", "Royal Family"}, ProviderKey: "customize_1_15"},
		{Name: "Score", Type: fieldconfig.TypeNumber, ProviderKey: "customize_1_16"},
		{Name: "Joined", Type: fieldconfig.TypeDate, ProviderKey: "customize_1_17"},
		{Name: "Hobbies", Type: fieldconfig.TypeMultiSelect, Options: []string{"Chess", "Go"}, ProviderKey: "customize_1_18"},
		{Name: "Plain", Type: fieldconfig.TypeText},
	},
})

// records checks and translates customers as the import service does, and
// fails the test on any error.
func records(t *testing.T, a *Adapter, op gateway.Op, cs ...schema.Customer) []gateway.Record {
	t.Helper()
	recs := make([]gateway.Record, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		errs, _ := schema.Check(c)
		k, e := testRules.Check(c)
		if errs = append(errs, e...); len(errs) > 0 {
			t.Fatalf("record %d: %+v", i, errs)
		}
		wire, errs, _ := a.Translate(op, k)
		if len(errs) > 0 {
			t.Fatalf("record %d: %+v", i, errs)
		}
		recs = append(recs, gateway.Record{Index: i, Customer: c, Wire: wire})
	}
	return recs
}

// docCustomers is the canonical equivalent of the document's "Batch Create
// Request Example" (stray spaces and mangled e-mail placeholders cleaned).
func docCustomers() []schema.Customer {
	five := 5
	return []schema.Customer{
		{
			Name: "zhang san", FirstName: "san", LastName: "zhang",
			Phone: "18163725558", WhatsApp: "8618163725558", Viber: "8618163725558",
			Country: "China", Email: "zhangsan@example.com",
			Address: "Wujin District, Tai'an City, Fujian Province", Birthday: "1976-04-12",
			Remarks: "Important customer", Tags: []string{"test", "99"}, TimeZone: "GMT+8",
			Gender: "male", Owner: "agent1@example.com", Level: &five,
			Line: "line123456", Zalo: "1234567890", Messenger: "9876543210", Instagram: "1122334455",
			CustomFields: map[string]any{"Nickname": "aa"},
		},
		{
			Name: "li si", FirstName: "si", LastName: "li",
			Phone: "18135539411", WhatsApp: "8618135539411",
			Country: "China", Email: "lisi@example.com",
			Address: "Wujin District, Tai'an City, Fujian Province", Birthday: "2015-08-19",
			Remarks: "Regular customer", TimeZone: "GMT+8", Tags: []string{"88", "99"},
			Gender: "male", Owner: "kubrick101",
		},
	}
}

// checked is c through the checks the import service runs before Translate,
// with testRules; the test fails on any error.
func checked(t testing.TB, c schema.Customer) fieldconfig.Checked {
	t.Helper()
	return wiretest.Prepared(t, c, testRules)
}
