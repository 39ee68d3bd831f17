// Package wiretest holds what the provider packages' tests share: golden
// files under testdata/ and JSON compared by meaning rather than by bytes.
// It is imported by tests only.
package wiretest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Golden returns the bytes of testdata/name, relative to the package under
// test, failing the test when it cannot be read.
func Golden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Normal re-encodes a JSON document with sorted keys, indented, numbers kept
// as written, failing the test when b is not JSON.
func Normal(t testing.TB, b []byte) string {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// SameJSON reports an error unless got and want are the same JSON document
// up to key order and spacing.
func SameJSON(t testing.TB, got, want []byte) {
	t.Helper()
	if g, w := Normal(t, got), Normal(t, want); g != w {
		t.Errorf("JSON differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}
