package wiretest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCountingTransportAndStreamForever(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(StreamForever(`{"code":`))
	defer srv.Close()
	ct := &CountingTransport{}
	resp, err := (&http.Client{Transport: ct}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 100<<10))
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 100<<10 || !strings.HasPrefix(string(b), `{"code":xx`) {
		t.Fatalf("read %d bytes starting %.12q; want 100 KiB of the stream", len(b), b)
	}
	if n := ct.N.Load(); n < int64(len(b)) {
		t.Errorf("counted %d bytes, read %d", n, len(b))
	}
	if r := (RulesOf{}).Rules("any"); r != nil {
		t.Errorf("RulesOf{} serves %v", r)
	}
}
