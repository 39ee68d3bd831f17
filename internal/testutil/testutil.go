// Package testutil holds the small helpers tests of several packages share:
// reading a file the test depends on, and comparing JSON documents whatever
// their key order.
package testutil

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// ReadFile reads the file at the path elem joins (relative to the test's
// package directory, e.g. "testdata", name); a file that cannot be read
// fails the test.
func ReadFile(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DecodeJSON decodes one JSON document, numbers as json.Number, so that a
// JSON number and a string of digits stay apart and a number compares as it
// was written; a body that is not JSON fails the test.
func DecodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

// SortedJSON re-encodes a JSON document indented, object keys sorted and
// numbers as written, so that two documents compare as text.
func SortedJSON(t testing.TB, b []byte) string {
	t.Helper()
	out, err := json.MarshalIndent(DecodeJSON(t, b), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
