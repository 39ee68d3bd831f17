package history

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkMemoryPut: one processed import's Put into the in-process store,
// of one record (a single-record import) and of 1 000 (a job's batch).
func BenchmarkMemoryPut(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			recs := make([]Record, n)
			for i := range recs {
				recs[i] = Record{WhatsApp: fmt.Sprintf("86152666%05d", i), Ref: fmt.Sprintf("crm-customer-reference-%06d", i),
					Index: i, Status: "succeeded", ProviderID: fmt.Sprint(1000000 + i)}
			}
			answer := make([]byte, 600)
			m := NewMemory(Options{})
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := m.Put(ctx, Import{App: "app1", Connection: "sandbox-nxlink", RequestID: fmt.Sprint(i), Answer: answer, Records: recs}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
