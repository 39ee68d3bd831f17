package wirejson

import (
	"bytes"
	"encoding/json"
	"testing"
)

// AppendString writes what encoding/json writes without HTML escaping.
func TestAppendStringAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "line\nbreak\r\ttab", "\x00\x01\x1f control", "\b back \f feed",
		"<html> & 'amp'", "Chang'an 长安", "emoji 🐉", "bad utf-8 \xff\xfe end", "\u2028 and \u2029", "\x7f del",
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want.Bytes())
		}
	}
}
