// Package jsonappend writes a JSON string by appending, byte for byte as
// encoding/json writes it: the one string encoder of the API's answers
// (HTML escaping on, as json.Marshal does) and the providers' wire bodies
// (HTML escaping off, as their encoders are set).
package jsonappend

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// String appends s to b as a JSON string, as encoding/json writes it:
// quotes, backslashes and control characters escaped (\n \r \t \b \f by
// name), invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped, and
// with escapeHTML (json.Marshal's default) '<', '>' and '&' as \u003c,
// \u003e and \u0026.
func String(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && !(escapeHTML && (c == '<' || c == '>' || c == '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
