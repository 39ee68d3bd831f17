package api

import (
	"context"
	"encoding/json"
	"testing"

	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/gateway"
)

// FuzzDecodeImport: for any body, DecodeImport either refuses the request
// as a whole or gives exactly one result per element of customers (counted
// by encoding/json, independently), each valid or failed, in input order;
// and the one-pass path answers as the record-by-record path does.
func FuzzDecodeImport(f *testing.F) {
	f.Add([]byte(oneRecord))
	conn, err := gateway.NewConnection(gateway.Common{ID: "c1", Provider: "fake", BaseURL: "http://127.0.0.1:1"}, &fakeProvider{}, nil,
		staticRules{"c1": fieldconfig.MustCompile(fieldconfig.Config{Required: []string{"whatsapp"}})})
	if err != nil {
		f.Fatal(err)
	}
	svc := &gateway.Service{}
	op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeMerge}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, decoded, err := DecodeImport(body)
		if err != nil {
			if jsonError(err) == "" {
				t.Fatalf("an error with no message: %#v", err)
			}
			return
		}
		var oracle struct {
			Customers []json.RawMessage `json:"customers"`
		}
		if err := json.Unmarshal(body, &oracle); err != nil {
			t.Fatalf("accepted a body encoding/json cannot read: %v", err)
		}
		if len(req.Customers) != len(oracle.Customers) || (decoded != nil && len(decoded) != len(req.Customers)) {
			t.Fatalf("%d records, %d decoded, for %d elements of customers", len(req.Customers), len(decoded), len(oracle.Customers))
		}
		if len(req.Customers) == 0 {
			return
		}
		op.Strict = req.Strict
		in := gateway.Request{Op: op, Customers: req.Customers, ValidateOnly: true}
		if decoded != nil {
			in.Input, in.Decoded = gateway.InputDecoded, decoded
		}
		ans, err := svc.Import(context.Background(), conn, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Results) != len(req.Customers) || ans.Total != len(req.Customers) {
			t.Fatalf("%d results (total %d) for %d records", len(ans.Results), ans.Total, len(req.Customers))
		}
		for i, r := range ans.Results {
			if r.Index != i || (r.Status != answer.StatusValid && r.Status != answer.StatusFailed) || (r.Status == answer.StatusFailed) != (len(r.Errors) > 0) {
				t.Fatalf("result %d: %+v", i, r)
			}
		}
		if decoded == nil {
			return
		}
		// The same records decoded one by one answer the same.
		raw := make([]json.RawMessage, len(oracle.Customers))
		copy(raw, oracle.Customers)
		slow, err := svc.Import(context.Background(), conn, gateway.Request{Op: op, Customers: raw, ValidateOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(ans.Results)
		b, _ := json.Marshal(slow.Results)
		if string(a) != string(b) {
			t.Fatalf("one pass:\n%s\nrecord by record:\n%s", a, b)
		}
	})
}
