package wiretest

import (
	"context"
	"maps"
	"slices"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// Prepared runs on a copy of c the checks the import service runs before
// Translate (schema.Check, then rules.Check) and fails the test on any
// error; it returns the checked record, what Translate takes.
func Prepared(t testing.TB, c schema.Customer, rules *fieldconfig.Rules) fieldconfig.Checked {
	t.Helper()
	k, errs := Check(c, rules)
	if len(errs) > 0 {
		t.Fatalf("checks: %+v", errs)
	}
	return k
}

// Check runs on a copy of c the checks the import service runs before
// Translate (schema.Check, then rules.Check) and returns the checked record
// and their errors: a record with errors is never translated.
func Check(c schema.Customer, rules *fieldconfig.Rules) (fieldconfig.Checked, []schema.Issue) {
	c.Tags, c.RemoveTags = slices.Clone(c.Tags), slices.Clone(c.RemoveTags)
	c.CustomFields = maps.Clone(c.CustomFields)
	errs, _ := schema.Check(&c)
	k, e := rules.Check(&c)
	return k, append(errs, e...)
}

// Records checks (Prepared) and translates customers with p, indexed from
// 0, and fails the test on any error.
func Records(t testing.TB, p gateway.Provider, op gateway.Op, rules *fieldconfig.Rules, cs ...schema.Customer) []gateway.Record {
	t.Helper()
	out := make([]gateway.Record, len(cs))
	for i := range cs {
		k := Prepared(t, cs[i], rules)
		w, errs, _ := p.Translate(op, k)
		if len(errs) > 0 {
			t.Fatalf("Translate(%d): %+v", i, errs)
		}
		out[i] = gateway.Record{Index: i, Customer: k.Customer(), Wire: w}
	}
	return out
}

// DoOne plans recs with p into exactly one call, failing the test otherwise,
// and performs it.
func DoOne(t testing.TB, p gateway.Provider, op gateway.Op, recs []gateway.Record) (gateway.CallResult, error) {
	t.Helper()
	calls, err := p.Plan(op, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1", len(calls))
	}
	return p.Do(context.Background(), &calls[0])
}

// Statuses lists the statuses of a call's outcomes.
func Statuses(res gateway.CallResult) []gateway.Status {
	var out []gateway.Status
	for _, o := range res.Outcomes {
		out = append(out, o.Status)
	}
	return out
}
