package wirejson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// Marshal encodes v as encoding/json does with HTML escaping off and without
// the encoder's trailing newline: the bytes a provider is sent (and, where
// it signs them, the bytes signed).
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Text is a JSON value read as text, for the values a provider types one way
// in its tables and sends another way in its examples: a string is its
// value, a number or boolean its literal, an array or object its compact
// JSON text; null and an absent value are "".
type Text string

// UnmarshalJSON implements json.Unmarshaler. It fails only on bytes that are
// not JSON, which encoding/json never passes.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
	case b[0] == '[' || b[0] == '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		*t = Text(buf.String())
	default:
		*t = Text(b)
	}
	return nil
}

// Int64 reads the text as a decimal integer, surrounding space allowed; ok
// is false when it is empty or not one.
func (t Text) Int64() (n int64, ok bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(t)), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}
