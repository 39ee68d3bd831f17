package nxlink

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"crmgate/internal/testutil"
	"crmgate/providers/nxlink/internal/nxlinktest"

	"crmgate/gateway"
)

// The document's request example, translated from canonical customers with
// mode replace and strict_owner, is exactly the golden body.
func TestPlanMatchesDocumentExample(t *testing.T) {
	t.Parallel()
	a := newTestAdapter(t, "http://127.0.0.1:1", testConfig(), nil)
	op := gateway.Op{Kind: gateway.KindImport, Mode: gateway.ModeReplace, StrictOwner: true}
	calls, err := a.Plan(op, records(t, a, op, docCustomers()...))
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(calls))
	}
	c := calls[0]
	if c.Method != http.MethodPost || c.Path != "/saas/cdp/openapi/customers/batch_create" {
		t.Errorf("call %s %s", c.Method, c.Path)
	}
	if got, want := testutil.SortedJSON(t, c.Body), testutil.SortedJSON(t, nxlinktest.Example(t, "batch_create_request.json")); got != want {
		t.Errorf("body differs from testdata/batch_create_request.json\ngot:  %s\nwant: %s", got, want)
	}
	if len(c.Records) != 2 || c.Records[0].Index != 0 || c.Records[1].Index != 1 {
		t.Errorf("records %+v", c.Records)
	}
}

// docSign is the documented formula, written out independently of Sign.
func docSign(algo, ts string, body []byte) string {
	s := "accessKey=" + nxlinktest.AccessKey + "&action=mt&bizType=2&ts=" + ts
	if len(body) > 0 {
		s += "&body=" + string(body)
	}
	s += "&accessSecret=" + nxlinktest.Secret
	if algo == "sha256" {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSignVectors(t *testing.T) {
	t.Parallel()
	body := []byte(`{"a":1}`)
	tests := []struct {
		name, algo string
		body       []byte
		want       string
	}{
		{"document vector", "md5", body, "3db881c3239d299821dc8cadd40b59c3"},
		{"empty algorithm is md5", "", body, "3db881c3239d299821dc8cadd40b59c3"},
		{"sha256", "sha256", body, docSign("sha256", "1655710885431", body)},
		{"empty body leaves out &body=", "md5", nil, docSign("md5", "1655710885431", nil)},
		{"unknown algorithm", "sha1", body, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Sign(tt.algo, nxlinktest.AccessKey, "mt", "2", "1655710885431", tt.body, nxlinktest.Secret); got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
	if Sign("md5", nxlinktest.AccessKey, "mt", "2", "1655710885431", nil, nxlinktest.Secret) == Sign("md5", nxlinktest.AccessKey, "mt", "2", "1655710885431", []byte("{}"), nxlinktest.Secret) {
		t.Error("the body does not change the signature")
	}
}
