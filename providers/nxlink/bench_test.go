package nxlink

import (
	"strconv"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/gateway"
	"crmgate/schema"
)

// BenchmarkTranslatePlanSign is the adapter's share of the pipeline for
// 10 000 records: translate, plan 100 calls and sign each body.
func BenchmarkTranslatePlanSign(b *testing.B) {
	a := newTestAdapter(b, "http://127.0.0.1:1", testConfig(), nil)
	cs := make([]schema.Customer, 10000)
	for i := range cs {
		cs[i] = docCustomers()[i%2]
		cs[i].WhatsApp = "86181637" + strconv.Itoa(10000+i)
	}
	ks := make([]fieldconfig.Checked, len(cs))
	for i := range cs {
		ks[i] = checked(b, cs[i])
	}
	b.ReportAllocs()
	for b.Loop() {
		recs := make([]gateway.Record, len(ks))
		for i := range ks {
			w, errs, _ := a.Translate(importOp, ks[i])
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			recs[i] = gateway.Record{Index: i, Customer: ks[i].Customer(), Wire: w}
		}
		calls, err := a.Plan(importOp, recs)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range calls {
			Sign(AlgorithmMD5, nxlinktest.AccessKey, Action, BizType, "1655710885431", c.Body, nxlinktest.Secret)
		}
	}
}
