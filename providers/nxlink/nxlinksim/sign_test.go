package nxlinksim

import (
	"net/http"
	"testing"
)

// The test vector of providers.md, and the variants the document allows: the
// signature check is the document's, not the adapter's.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("accessKey", "fme2na3kdi3ki")
	h.Set("ts", "1655710885431")
	h.Set("bizType", "2")
	h.Set("action", "mt")
	h.Set("sign", "not signed")
	const signed = `accessKey=fme2na3kdi3ki&action=mt&bizType=2&ts=1655710885431&body={"a":1}&accessSecret=s3cr3t`
	if got := string(signedString(h, []byte(`{"a":1}`), "s3cr3t")); got != signed {
		t.Errorf("signed string\ngot:  %s\nwant: %s", got, signed)
	}
	tests := []struct {
		name, algo string
		body       string
		want       string
	}{
		{"the document's vector", "md5", `{"a":1}`, "3db881c3239d299821dc8cadd40b59c3"},
		{"no algorithm header is md5", "", `{"a":1}`, "3db881c3239d299821dc8cadd40b59c3"},
		{"sha256 hashes the same string", "sha256", `{"a":1}`, "745bd177700f6371560aea80c2b00686f9f63fdd3f4590e4633d62aedba2ff29"},
		// md5 of accessKey=fme2na3kdi3ki&action=mt&bizType=2&ts=1655710885431&accessSecret=s3cr3t
		{"an empty body leaves out &body=", "md5", "", "09aae057df9c82c27ead2c17f0e8a65d"},
	}
	for _, tt := range tests {
		if got := signature(tt.algo, h, []byte(tt.body), "s3cr3t"); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
