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
// error.
func Prepared(t testing.TB, c schema.Customer, rules *fieldconfig.Rules) *schema.Customer {
	t.Helper()
	c.Tags, c.RemoveTags = slices.Clone(c.Tags), slices.Clone(c.RemoveTags)
	c.CustomFields = maps.Clone(c.CustomFields)
	if errs, _ := schema.Check(&c); len(errs) > 0 {
		t.Fatalf("schema.Check: %+v", errs)
	}
	if errs := rules.Check(&c); len(errs) > 0 {
		t.Fatalf("Rules.Check: %+v", errs)
	}
	return &c
}

// Records translates customers with p (without the canonical checks, so the
// provider's own checks can be reached), indexed from 0, and fails the test
// on a Translate error.
func Records(t testing.TB, p gateway.Provider, op gateway.Op, rules *fieldconfig.Rules, cs ...schema.Customer) []gateway.Record {
	t.Helper()
	out := make([]gateway.Record, len(cs))
	for i := range cs {
		c := cs[i]
		w, errs, _ := p.Translate(op, &c, rules)
		if len(errs) > 0 {
			t.Fatalf("Translate(%d): %+v", i, errs)
		}
		out[i] = gateway.Record{Index: i, Customer: &c, Wire: w}
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
