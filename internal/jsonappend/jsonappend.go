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
	// Most strings need no escape: eight bytes at a time while none of them
	// might, then byte by byte, and the whole string in one copy when none
	// did.
	i := 0
	for i+8 <= len(s) && !mayEscape(load8(s, i), escapeHTML) {
		i += 8
	}
	for i < len(s) && s[i] < utf8.RuneSelf && plain[s[i]] && !(escapeHTML && htmlByte(s[i])) {
		i++
	}
	if i == len(s) {
		return append(append(b, s...), '"')
	}
	start := 0
	for i < len(s) {
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

// plain holds the ASCII bytes written as they are whatever the escaping:
// not a control character, quote or backslash.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func htmlByte(c byte) bool { return c == '<' || c == '>' || c == '&' }

// load8 is the eight bytes of s from i, little-endian (one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// mayEscape reports whether any byte of x might not be written as it is: a
// control character, quote, backslash or non-ASCII byte, or with escapeHTML
// one of '<', '>' and '&' (the usual bit tricks for a zero or small byte; a
// false alarm only sends the scan to the byte loop).
func mayEscape(x uint64, escapeHTML bool) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	is := func(c byte) uint64 { y := x ^ uint64(c)*ones; return (y - ones) &^ y }
	m := x | (x - 0x20*ones) | is('"') | is('\\')
	if escapeHTML {
		m |= is('<') | is('>') | is('&')
	}
	return m&highs != 0
}
