package gateway

import (
	"context"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/schema"
)

// instant accepts every record at once, in memory.
type instant struct{}

func (instant) Modes() []string { return []string{ModeMerge} }
func (instant) Translate(Op, fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	return nil, nil, nil
}
func (instant) Plan(_ Op, recs []Record) ([]Call, error) {
	return []Call{{Method: "POST", Path: "/x", Records: recs}}, nil
}
func (instant) Do(_ context.Context, call *Call) (CallResult, error) {
	out := make([]Outcome, len(call.Records))
	for i := range out {
		out[i] = Outcome{Status: StatusSucceeded}
	}
	return CallResult{Outcomes: out, Report: CallReport{HTTPStatus: 200, TraceID: "t"}}, nil
}

// BenchmarkImport100 is Service.Import of 100 records through one provider
// call, with the service's defaults (no tracer): its allocs/op are the cost
// of the import path itself.
func BenchmarkImport100(b *testing.B) {
	benchImport(b, &Service{})
}

func benchImport(b *testing.B, s *Service) {
	conn, err := NewConnection(Common{ID: "c", Provider: "fake", BaseURL: "http://127.0.0.1:1"}, instant{}, nil, noRules{})
	if err != nil {
		b.Fatal(err)
	}
	req := Request{Op: Op{Kind: KindImport, Mode: ModeMerge}, Customers: records(100)}
	b.ReportAllocs()
	for b.Loop() {
		ans, err := s.Import(context.Background(), conn, req)
		if err != nil || ans.Succeeded != 100 {
			b.Fatalf("%+v %v", ans, err)
		}
	}
}
