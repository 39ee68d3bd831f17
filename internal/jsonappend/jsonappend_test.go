package jsonappend

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStringAsEncodingJSON: String writes what encoding/json writes, with
// and without HTML escaping, for strings of every length up to 40 built of
// plain ASCII and of everything that is escaped or replaced (control
// characters, quote, backslash, '<', '>', '&', U+2028, U+2029, invalid and
// truncated UTF-8, multi-byte runes), each at every offset of the
// eight-byte scan.
func TestStringAsEncodingJSON(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "Z", "0", " ", "~", "\x7f", "\x00", "\x1f", "\n", "\r", "\t", "\b", "\f", `"`, `\`, "<", ">", "&",
		"\u2028", "\u2029", "é", "中", "😀", "\xff", "\xc3", "\xe2\x80", "\ufffd"}
	r := rand.New(rand.NewPCG(3, 4))
	inputs := []string{""}
	for range 20000 {
		var b strings.Builder
		n := r.IntN(41)
		plainRun := r.IntN(2) == 0
		for b.Len() < n {
			if plainRun && r.IntN(8) != 0 {
				b.WriteString(pieces[r.IntN(3)])
			} else {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
		}
		inputs = append(inputs, b.String())
	}
	for _, p := range pieces {
		for at := range 17 {
			inputs = append(inputs, strings.Repeat("x", at)+p+strings.Repeat("y", 16-at))
		}
	}
	for _, s := range inputs {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := String([]byte("prefix"), s, true); string(got) != "prefix"+string(want) {
			t.Errorf("%q with HTML escaping: %s, encoding/json %s", s, got[6:], want)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := String(nil, s, false), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("%q without HTML escaping: %s, encoding/json %s", s, got, want)
		}
	}
}

func BenchmarkString(b *testing.B) {
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = String(buf[:0], "No. 8 Chang'an Avenue, Beijing", false)
		buf = String(buf, "met at the spring fair; prefers WhatsApp", true)
		buf = String(buf, "Li Heng", false)
	}
}
