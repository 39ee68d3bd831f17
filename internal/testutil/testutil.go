// Package testutil holds the small helpers tests of several packages share:
// reading a file the test depends on, comparing JSON documents whatever their
// key order, collecting output written concurrently, and waiting for what
// another goroutine or process makes true.
package testutil

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// SyncBuffer collects what goroutines write (a process's output, a
// logger's lines) while the test reads it. The zero value is empty and
// ready.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it never fails.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// JSONLines decodes what was written as one JSON object a line (a JSON slog
// handler's output), blank lines skipped; a line that is not one JSON object
// fails the test.
func (s *SyncBuffer) JSONLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("log line is not one JSON object: %v: %s", err, l)
		}
		out = append(out, v)
	}
	return out
}
