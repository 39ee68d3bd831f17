// Package plainjson reads JSON of a plain shape quickly: strings without
// escapes or control characters, numbers, booleans and the structural
// characters, from one string whose substrings the values are. It is the
// scanner of decoders that take only such text and give everything else to
// a complete JSON decoder (api's import bodies, NXLink's answers): each
// method reports false for what it does not take, and its caller then gives
// up. The text must be valid UTF-8, or its caller must not care.
package plainjson

import "strconv"

// Scanner reads JSON from S at I. Each method skips the whitespace
// before what it reads and reports false for anything outside the plain
// shape, leaving I wherever it stopped (the caller then gives up).
type Scanner struct {
	S string // the text
	I int    // where the next read starts
}

// Space skips whitespace.
func (p *Scanner) Space() {
	for p.I < len(p.S) {
		switch p.S[p.I] {
		case ' ', '\t', '\n', '\r':
			p.I++
		default:
			return
		}
	}
}

// Peek is the next byte after whitespace, or 0 at the end.
func (p *Scanner) Peek() byte {
	p.Space()
	if p.I < len(p.S) {
		return p.S[p.I]
	}
	return 0
}

// Byte reads the byte c.
func (p *Scanner) Byte(c byte) bool {
	if p.Peek() != c {
		return false
	}
	p.I++
	return true
}

// Str reads a string without escapes or control characters.
func (p *Scanner) Str() (string, bool) {
	if !p.Byte('"') {
		return "", false
	}
	start := p.I
	// Eight bytes at a time while none of them is a stop, then byte by byte.
	for p.I+8 <= len(p.S) && !hasStop(load8(p.S, p.I)) {
		p.I += 8
	}
	for p.I < len(p.S) && !stringStops[p.S[p.I]] {
		p.I++
	}
	if p.I == len(p.S) || p.S[p.I] != '"' {
		return "", false
	}
	p.I++
	return p.S[start : p.I-1], true
}

// load8 is the eight bytes of s from i, little-endian (one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// hasStop reports whether any byte of x is one of stringStops: below 0x20,
// a quote or a backslash (the usual bit tricks for a zero or small byte;
// a false alarm only sends the scan to the byte loop).
func hasStop(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) &^ x
	quote := ((x ^ '"'*ones) - ones) &^ (x ^ '"'*ones)
	slash := ((x ^ '\\'*ones) - ones) &^ (x ^ '\\'*ones)
	return (below|quote|slash)&highs != 0
}

// stringStops are the bytes that end a plain string's scan: its closing
// quote, and the backslash and control characters it does not take.
var stringStops = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// Bool reads true or false.
func (p *Scanner) Bool() (bool, bool) {
	switch p.Peek() {
	case 't':
		return true, p.word("true")
	case 'f':
		return false, p.word("false")
	}
	return false, false
}

// word reads the literal w.
func (p *Scanner) word(w string) bool {
	if len(p.S)-p.I < len(w) || p.S[p.I:p.I+len(w)] != w {
		return false
	}
	p.I += len(w)
	return p.delimited()
}

// delimited reports whether a literal or number ended where it should: at
// the end or before whitespace or a structural character.
func (p *Scanner) delimited() bool {
	if p.I == len(p.S) {
		return true
	}
	switch p.S[p.I] {
	case ' ', '\t', '\n', '\r', ',', '}', ']', ':':
		return true
	}
	return false
}

// Number reads a JSON number and returns its text.
func (p *Scanner) Number() (string, bool) {
	p.Space()
	start := p.I
	if p.I < len(p.S) && p.S[p.I] == '-' {
		p.I++
	}
	switch {
	case p.I < len(p.S) && p.S[p.I] == '0':
		p.I++
	case p.digits() == 0:
		return "", false
	}
	if p.I < len(p.S) && p.S[p.I] == '.' {
		p.I++
		if p.digits() == 0 {
			return "", false
		}
	}
	if p.I < len(p.S) && (p.S[p.I] == 'e' || p.S[p.I] == 'E') {
		p.I++
		if p.I < len(p.S) && (p.S[p.I] == '+' || p.S[p.I] == '-') {
			p.I++
		}
		if p.digits() == 0 {
			return "", false
		}
	}
	return p.S[start:p.I], p.delimited()
}

// digits reads digits and returns how many.
func (p *Scanner) digits() int {
	start := p.I
	for p.I < len(p.S) && p.S[p.I] >= '0' && p.S[p.I] <= '9' {
		p.I++
	}
	return p.I - start
}

// Level reads a non-negative integer of at most 18 digits without a
// leading zero.
func (p *Scanner) Level() (*int, bool) {
	text, ok := p.Number()
	if !ok || len(text) == 0 || len(text) > 18 || (len(text) > 1 && text[0] == '0') {
		return nil, false
	}
	for i := 0; i < len(text); i++ {
		if text[i] < '0' || text[i] > '9' {
			return nil, false
		}
	}
	n, err := strconv.Atoi(text)
	return &n, err == nil
}

// Strs reads an array of strings; [] is an empty, non-nil list.
func (p *Scanner) Strs() ([]string, bool) {
	out := make([]string, 0, 4) // a list as people write tags, in one allocation
	ok := p.Array(func() bool {
		s, ok := p.Str()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// End reports whether only whitespace is left.
func (p *Scanner) End() bool {
	p.Space()
	return p.I == len(p.S)
}

// Null reads null.
func (p *Scanner) Null() bool {
	return p.Peek() == 'n' && p.word("null")
}

// Scalar reads a string, number, boolean or null and discards it.
func (p *Scanner) Scalar() bool {
	switch c := p.Peek(); {
	case c == '"':
		_, ok := p.Str()
		return ok
	case c == 't' || c == 'f':
		_, ok := p.Bool()
		return ok
	case c == 'n':
		return p.Null()
	}
	_, ok := p.Number()
	return ok
}

// Object reads an object, calling member for each name with the scanner at
// its value. member reads the value and returns whether it could, and the
// name's bit: distinct for each name it takes, or 0 for a name whose
// repetition member checks itself. A bit seen twice is not taken.
func (p *Scanner) Object(member func(name string) (bit uint64, ok bool)) bool {
	if !p.Byte('{') {
		return false
	}
	if p.Peek() == '}' {
		p.I++
		return true
	}
	var seen uint64
	for {
		name, ok := p.Str()
		if !ok || !p.Byte(':') {
			return false
		}
		bit, ok := member(name)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch p.Peek() {
		case ',':
			p.I++
		case '}':
			p.I++
			return true
		default:
			return false
		}
	}
}

// Array reads an array, calling elem with the scanner at each element.
func (p *Scanner) Array(elem func() bool) bool {
	if !p.Byte('[') {
		return false
	}
	if p.Peek() == ']' {
		p.I++
		return true
	}
	for {
		if !elem() {
			return false
		}
		switch p.Peek() {
		case ',':
			p.I++
		case ']':
			p.I++
			return true
		default:
			return false
		}
	}
}
