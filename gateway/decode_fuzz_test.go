package gateway

import (
	"testing"

	"crmgate/schema"
)

// FuzzDecodeRecord: any record decodes, or fails with at least one issue
// that is invalid_value or unknown_field; it never panics.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"whatsapp":"8615266667780","name":"Li Heng","tags":["VIP"],"level":3,"custom_fields":{"Faction":"Royal Family"}}`), false)
	f.Fuzz(func(t *testing.T, raw []byte, strict bool) {
		c, errs, warns := decodeRecord(raw, strict)
		if c == nil && len(errs) == 0 {
			t.Fatal("no record and no error")
		}
		for _, is := range append(errs, warns...) {
			if (is.Code != schema.CodeInvalidValue && is.Code != schema.CodeUnknownField) || is.Message == "" {
				t.Fatalf("issue %+v", is)
			}
		}
	})
}
