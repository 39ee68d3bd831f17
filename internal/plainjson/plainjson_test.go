package plainjson

import (
	"encoding/json"
	"testing"
)

// Each reader takes what JSON allows of its kind and nothing it leaves to
// a complete decoder; what it returns is what encoding/json reads.
func TestReaders(t *testing.T) {
	for _, s := range []string{`"a b"`, ` "北京" `, `""`} {
		p := Scanner{S: s}
		got, ok := p.Str()
		var want string
		if err := json.Unmarshal([]byte(s), &want); !ok || err != nil || got != want || !p.End() {
			t.Errorf("Str(%s) = %q, %v; encoding/json %q, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{`"a\"b"`, `"a\u0041"`, "\"a\tb\"", `"open`, `x`} {
		p := Scanner{S: s}
		if _, ok := p.Str(); ok {
			t.Errorf("Str took %s", s)
		}
	}
	for _, s := range []string{`0`, `-0`, `12`, `-1.5`, `1e3`, `2E-7`, `0.25e+2`} {
		p := Scanner{S: s}
		got, ok := p.Number()
		var want json.Number
		if err := json.Unmarshal([]byte(s), &want); !ok || err != nil || json.Number(got) != want {
			t.Errorf("Number(%s) = %q, %v; encoding/json %q, %v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{`01`, `-`, `1.`, `.5`, `1e`, `1x`, `+1`, `NaN`} {
		p := Scanner{S: s}
		if _, ok := p.Number(); ok {
			t.Errorf("Number took %s", s)
		}
	}
	for s, want := range map[string]bool{`true`: true, `false`: false, ` true `: true} {
		p := Scanner{S: s}
		if got, ok := p.Bool(); !ok || got != want || !p.End() {
			t.Errorf("Bool(%s) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{`tru`, `truex`, `True`, `nul`} {
		p := Scanner{S: s}
		if _, ok := p.Bool(); ok {
			t.Errorf("Bool took %s", s)
		}
		if p := (Scanner{S: s}); p.Null() {
			t.Errorf("Null took %s", s)
		}
	}
}

// Object calls member once per name, in order, and refuses a bit twice;
// Array calls elem once per element; both refuse trailing commas.
func TestObjectAndArray(t *testing.T) {
	var names []string
	p := Scanner{S: `{"a":1,"b":[true,null,"x"],"c":{}}`}
	ok := p.Object(func(name string) (uint64, bool) {
		names = append(names, name)
		switch name {
		case "b":
			n := 0
			ok := p.Array(func() bool { n++; return p.Scalar() })
			return 2, ok && n == 3
		case "c":
			return 4, p.Object(func(string) (uint64, bool) { return 0, false })
		}
		return 1, p.Scalar()
	})
	if !ok || !p.End() || len(names) != 3 || names[0] != "a" || names[2] != "c" {
		t.Errorf("Object: %v, names %v", ok, names)
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":1,}`, `{"a" 1}`, `{"a":1`, `[1,]`} {
		p := Scanner{S: s}
		var ok bool
		if s[0] == '{' {
			ok = p.Object(func(string) (uint64, bool) { return 1, p.Scalar() })
		} else {
			ok = p.Array(p.Scalar)
		}
		if ok {
			t.Errorf("took %s", s)
		}
	}
}

// hasStop is exact where it matters: any block with a stop byte is caught,
// for every stop at every position among every other byte value.
func TestHasStopCatchesEveryStop(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			var b [8]byte
			for i := range b {
				b[i] = 'a'
			}
			b[pos] = byte(c)
			for _, fill := range []byte{'a', 0xff, 0x80, 0x21, 0x5d, 0x23} {
				for i := range b {
					if i != pos {
						b[i] = fill
					}
				}
				x := load8(string(b[:]), 0)
				blockStops := false
				for _, v := range b {
					blockStops = blockStops || stringStops[v]
				}
				if blockStops && !hasStop(x) {
					t.Fatalf("% x: a stop byte the fast test misses", b)
				}
				if !blockStops && hasStop(x) && fill == 'a' && c >= 0x20 {
					t.Errorf("% x: no stop byte, yet the fast test stops", b)
				}
			}
		}
	}
}
