package schema

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// metadataPatterns lists every pattern of the phone-number metadata that
// validity and parsing match, anchored as phone.go anchors them.
func metadataPatterns(t *testing.T) []string {
	t.Helper()
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, md := range coll.GetMetadata() {
		if p := md.GetNationalPrefixForParsing(); p != "" {
			out = append(out, "^(?:"+p+")")
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			out = append(out, "^(?:"+ld+")")
		}
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetMobile(), md.GetFixedLine(),
			md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(),
			md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			if d != nil {
				out = append(out, "^(?:"+d.GetNationalNumberPattern()+")$")
			}
		}
	}
	return out
}

// TestDigitDFAIsRegexp: on digit strings, every metadata pattern's automaton
// answers what regexp answers (strings the pattern accepts, taken from the
// library's example numbers and from random digits, and their neighbours),
// and every metadata pattern gets an automaton, so none is left to regexp
// on the hot path.
func TestDigitDFAIsRegexp(t *testing.T) {
	t.Parallel()
	patterns := metadataPatterns(t)
	if len(patterns) < 2000 {
		t.Fatalf("only %d patterns", len(patterns))
	}
	var inputs []string
	for region := range phonenumbers.GetSupportedRegions() {
		if num := phonenumbers.GetExampleNumber(region); num != nil {
			nsn := phonenumbers.GetNationalSignificantNumber(num)
			inputs = append(inputs, nsn, nsn[1:], nsn+"0", "0"+nsn)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		s := ""
		for range r.IntN(19) {
			s += strconv.Itoa(r.IntN(10))
		}
		inputs = append(inputs, s)
	}
	seen := map[string]bool{}
	matched, checked := 0, 0
	for _, expr := range patterns {
		if seen[expr] {
			continue
		}
		seen[expr] = true
		dfa := newDigitDFA(expr)
		if dfa == nil {
			t.Errorf("%s: no automaton", expr)
			continue
		}
		re := regexp.MustCompile(expr)
		for _, in := range inputs {
			checked++
			want := re.MatchString(in)
			if want {
				matched++
			}
			if got := match(dfa, in); got != want {
				t.Errorf("%s on %q: automaton %v, regexp %v", expr, in, got, want)
			}
			if got := match(dfa, []byte(in)); got != want {
				t.Errorf("%s on %q as bytes: automaton %v, regexp %v", expr, in, got, want)
			}
		}
	}
	if matched < checked/100 {
		t.Errorf("only %d of %d checks matched: too one-sided", matched, checked)
	}
	t.Logf("%d patterns, %d checks, %d matched", len(seen), checked, matched)
}

// TestDigitDFAAnchors: the automaton models the start and end anchors and
// refuses what it does not model.
func TestDigitDFAAnchors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr, in string
		want     bool
	}{
		{"^(?:1[2-4])", "13", true},
		{"^(?:1[2-4])", "139", true},
		{"^(?:1[2-4])$", "139", false},
		{"^(?:1[2-4])$", "14", true},
		{"^(?:1|12)$", "12", true},
		{"^(?:\\d{2,3})$", "1", false},
		{"^(?:\\d{2,3})$", "1234", false},
		{"^(?:)", "", true},
		{"^(?:0?)$", "", true},
	} {
		dfa := newDigitDFA(tc.expr)
		if dfa == nil {
			t.Fatalf("%s: no automaton", tc.expr)
		}
		if got := match(dfa, tc.in); got != tc.want {
			t.Errorf("%s on %q: %v, want %v", tc.expr, tc.in, got, tc.want)
		}
		if want := regexp.MustCompile(tc.expr).MatchString(tc.in); want != tc.want {
			t.Errorf("%s on %q: regexp says %v", tc.expr, tc.in, want)
		}
	}
	for _, expr := range []string{`^\b1`, `(?m)^1$`, `^(`} {
		if newDigitDFA(expr) != nil {
			t.Errorf("%s: an automaton for what it does not model", expr)
		}
	}
}
