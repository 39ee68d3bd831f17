package bench

import (
	"testing"

	"crmgate/api"
)

// BenchmarkDecodeImport is the import body's decode alone (api.DecodeImport
// on 1 000 NXLink records), the step the JSON library decides.
func BenchmarkDecodeImport(b *testing.B) {
	body := ImportBody("nx", NXLinkCustomers(1000))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, cs, err := api.DecodeImport(body); err != nil || len(cs) != 1000 {
			b.Fatalf("%d records, %v", len(cs), err)
		}
	}
}
