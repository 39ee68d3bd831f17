package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// readAll reads what io.ReadAll reads, whatever length was declared, and
// passes the body limit's error on.
func TestReadAll(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 70000} {
		body := strings.Repeat("x", size)
		for _, declared := range []int64{-1, 0, 1, int64(size) - 1, int64(size), int64(size) + 1, 10 * int64(size)} {
			got, err := readAll(strings.NewReader(body), declared)
			if err != nil || !bytes.Equal(got, []byte(body)) {
				t.Errorf("%d bytes declared as %d: %d bytes, %v", size, declared, len(got), err)
			}
		}
	}
	_, err := readAll(http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("0123456789")), 4), 10)
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Errorf("over the limit: %v, want an *http.MaxBytesError", err)
	}
}
