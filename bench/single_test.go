package bench

import (
	"testing"

	"crmgate/gateway"
)

// BenchmarkSingleRecordPipeline is RunPipeline on one-record NXLink bodies
// (64 different records in turn), offline: the per-request share of the
// record pipeline that a single-record import pays.
func BenchmarkSingleRecordPipeline(b *testing.B) {
	conn, err := OfflineConnection("nxlink", nil)
	if err != nil {
		b.Fatal(err)
	}
	cs := NXLinkCustomers(64)
	var bodies [][]byte
	for i := range cs {
		bodies = append(bodies, ImportBody(conn.ID, cs[i:i+1]))
	}
	svc := &gateway.Service{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := RunPipeline(svc, conn, bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
