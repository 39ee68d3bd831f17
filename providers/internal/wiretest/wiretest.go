// Package wiretest holds what the provider packages' tests share: golden
// files under testdata/ and JSON compared by meaning rather than by bytes.
// It is imported by tests only.
package wiretest

import (
	"testing"

	"crmgate/internal/testutil"
)

// SameJSON reports an error unless got and want are the same JSON document
// up to key order and spacing.
func SameJSON(t testing.TB, got, want []byte) {
	t.Helper()
	if g, w := testutil.SortedJSON(t, got), testutil.SortedJSON(t, want); g != w {
		t.Errorf("JSON differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}
