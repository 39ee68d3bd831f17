package schema

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// phoneMetadata is the phone-number library's own metadata, indexed as the
// library indexes it: geographic regions by region code, non-geographic
// entities ("001") by country calling code. It is read once; ok is false when
// the metadata could not be read, and then every caller here leaves the work
// to the library.
var phoneMetadata = sync.OnceValues(func() (m phoneMetadataIndex, ok bool) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil || coll == nil {
		return m, false
	}
	m.byRegion = map[string]*phonenumbers.PhoneMetadata{}
	m.nonGeo = map[int]*phonenumbers.PhoneMetadata{}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == nonGeoRegion {
			m.nonGeo[int(md.GetCountryCode())] = md
		} else {
			m.byRegion[md.GetId()] = md
		}
	}
	return m, true
})

// nonGeoRegion is the library's region code of non-geographic entities
// (+800, +808, +870, ...).
const nonGeoRegion = "001"

type phoneMetadataIndex struct {
	byRegion map[string]*phonenumbers.PhoneMetadata
	nonGeo   map[int]*phonenumbers.PhoneMetadata
}

// nationalPrefixes holds, per country calling code, the anchored pattern of
// the national prefix the phone-number library strips while parsing (nil when
// the code's main region has none). It is built once from the library's own
// metadata; ok is false when that metadata could not be read.
var nationalPrefixes = sync.OnceValues(func() (map[int]*digitPattern, bool) {
	meta, ok := phoneMetadata()
	if !ok {
		return nil, false
	}
	out := map[int]*digitPattern{}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		region := phonenumbers.GetRegionCodeForCountryCode(cc)
		md := meta.byRegion[region]
		if region == nonGeoRegion {
			md = meta.nonGeo[cc]
		}
		if md == nil {
			return nil, false
		}
		var re *digitPattern
		if p := md.GetNationalPrefixForParsing(); p != "" {
			var err error
			if re, err = compileDigitPattern("^(?:" + p + ")"); err != nil {
				return nil, false
			}
		}
		out[cc] = re
	}
	return out, true
})

// parseInternational parses digits (international digits without "+", as
// NormalizePhone prepares them) exactly as phonenumbers.Parse("+"+digits, "")
// does. The common case, a known country calling code followed by a national
// number of 2 to 17 digits that starts neither with 0 nor with the region's
// national prefix, is built directly: it skips the library's regular
// expressions for extensions and viability, which cannot match digits alone
// of that form. Every other input goes to phonenumbers.Parse.
func parseInternational(digits string) (*phonenumbers.PhoneNumber, error) {
	if num, ok := parseInternationalFast(digits); ok {
		return num, nil
	}
	return phonenumbers.Parse("+"+digits, "")
}

func parseInternationalFast(digits string) (*phonenumbers.PhoneNumber, bool) {
	cc, split, ok := splitInternational(digits)
	if !ok {
		return nil, false
	}
	n, err := strconv.ParseUint(digits[split:], 10, 64)
	if err != nil {
		return nil, false
	}
	// The number and the two fields it points to, in one allocation.
	p := &struct {
		num  phonenumbers.PhoneNumber
		code int32
		n    uint64
	}{code: int32(cc), n: n}
	p.num.CountryCode, p.num.NationalNumber = &p.code, &p.n
	return &p.num, true
}

// splitInternational is the common case of parseInternational without the
// number: for digits that phonenumbers.Parse("+"+digits, "") reads as a known
// country calling code cc, written digits[:split], followed by the national
// number digits[split:] (2 to 17 digits that start neither with 0 nor with
// the region's national prefix, so that it is also the national significant
// number, no Italian leading zero), ok is true. Anything else is not ok and
// is left to phonenumbers.Parse.
func splitInternational[T string | []byte](digits T) (cc, split int, ok bool) {
	if len(digits) < 4 || len(digits) > 20 || digits[0] == '0' {
		return 0, 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, 0, false
		}
	}
	codes, ok := callingCodes()
	if !ok {
		return 0, 0, false
	}
	// The library takes the shortest prefix of 1 to 3 digits that is a known
	// country calling code.
	c := 0
	for i := 1; i <= 3; i++ {
		c = c*10 + int(digits[i-1]-'0')
		if codes[c].known {
			cc, split = c, i
			break
		}
	}
	national := digits[split:]
	if cc == 0 || len(national) < 2 || len(national) > 17 || national[0] == '0' {
		return 0, 0, false
	}
	if re := codes[cc].nationalPrefix; re != nil && matchPrefix(re, national) {
		return 0, 0, false
	}
	return cc, split, true
}

// callingCodeInfo is what splitInternational and normalizeInternational
// need of a calling code.
type callingCodeInfo struct {
	known          bool          // a calling code the library knows
	nationalPrefix *digitPattern // nationalPrefixes' pattern; nil when none
	// possible has bit n set when possibleLength(cc, n) is true; it is
	// valid when possibleLength decides every length itself.
	possible      uint64
	possibleValid bool
}

// possibleNSN is possibleLength(cc, n) for a split number (cc from the
// table, n at most 17); decided is false when it is the library's to answer.
func (c *callingCodeInfo) possibleNSN(n int) (possible, decided bool) {
	return c.possible&(1<<n) != 0, c.possibleValid
}

// callingCodes is nationalPrefixes as a table indexed by calling code (1 to
// 999); ok is false when the metadata could not be read.
var callingCodes = sync.OnceValues(func() (t *[1000]callingCodeInfo, ok bool) {
	prefixes, ok := nationalPrefixes()
	if !ok {
		return nil, false
	}
	t = new([1000]callingCodeInfo)
	for cc, re := range prefixes {
		if cc <= 0 || cc >= len(t) || phonenumbers.GetRegionCodeForCountryCode(cc) == "ZZ" {
			return nil, false
		}
		info := callingCodeInfo{known: true, nationalPrefix: re, possibleValid: true}
		for n := range 64 {
			possible, decided := possibleLength(cc, int32(n))
			if !decided {
				info.possible, info.possibleValid = 0, false
				break
			}
			if possible {
				info.possible |= 1 << n
			}
		}
		t[cc] = info
	}
	// Every code the library maps to a region must be in the table, or the
	// shortest-prefix rule above would pick a longer code than the library.
	for i := 1; i < len(t); i++ {
		if !t[i].known && phonenumbers.GetRegionCodeForCountryCode(i) != "ZZ" {
			return nil, false
		}
	}
	return t, true
})

// digitPattern is a compiled metadata pattern, anchored at the start, matched
// against digits only: by its digit automaton when it has one, else by the
// regexp package.
type digitPattern struct {
	dfa *digitDFA
	re  *regexp.Regexp
}

func compileDigitPattern(expr string) (*digitPattern, error) {
	if dfa := newDigitDFA(expr); dfa != nil {
		return &digitPattern{dfa: dfa}, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &digitPattern{re: re}, nil
}

// matchFull is regexp.Match of the pattern on digits (ASCII digits only).
func (p *digitPattern) matchFull(digits []byte) bool {
	if p.dfa != nil {
		return match(p.dfa, digits)
	}
	// A copy for the regexp (few patterns need it), so that digits, a
	// caller's stack buffer, does not escape through it.
	return p.re.MatchString(string(digits))
}

// matchPrefix is regexp.MatchString of the pattern p on digits (ASCII
// digits only), a string or bytes (a method cannot take a type parameter).
func matchPrefix[T string | []byte](p *digitPattern, digits T) bool {
	if p.dfa != nil {
		return match(p.dfa, digits)
	}
	return p.re.MatchString(string(digits))
}

// isValidNumber answers exactly what phonenumbers.IsValidNumber answers for
// num, for less: the library finds the number's type by trying the general
// pattern and then up to ten per-type patterns in a fixed order, building each anchored pattern string
// and looking it up in a shared cache on every call, and for a calling code
// shared by several regions it does that once per region tried. Validity
// only asks whether the general pattern and any type pattern match (each with
// its possible lengths), so here every pattern is compiled once per calling
// code, the lengths are checked as a bit set, mobile and fixed line, the
// common types, are tried first, and the region of a shared calling code is
// chosen as the library chooses it (the first region in the library's order
// whose leading digits match, or that has none and for which the number is
// valid). A nil number is not valid. Whatever the tables do not cover (metadata
// that could not be read or does not have the expected shape, a calling code
// outside 1 to 999) goes to the library.
func isValidNumber(num *phonenumbers.PhoneNumber) bool {
	if num == nil {
		return false
	}
	var buf [maxNSNLength + 20]byte
	if valid, decided := validNSN(num.GetCountryCode(), nationalSignificantNumber(buf[:0], num)); decided {
		return valid
	}
	return phonenumbers.IsValidNumber(num)
}

// validNSN is isValidNumber for the number of calling code cc and national
// significant number nsn; decided is false when the answer is the library's
// to give.
func validNSN(cc int32, nsn []byte) (valid, decided bool) {
	if cc <= 0 || cc >= int32(len(validityTables)) {
		return false, false
	}
	v := callingCodeTable(cc)
	if v == nil {
		return false, false
	}
	_, valid = v.choose(nsn)
	return valid, true
}

// callingCodeTable returns the validity tables of calling code cc (1 to 999),
// building them on first use; nil when numbers with cc go to the library.
func callingCodeTable(cc int32) *callingCodeValidity {
	t := &validityTables[cc]
	t.once.Do(func() { t.v = buildCallingCodeValidity(int(cc)) })
	return t.v
}

// nationalSignificantNumber appends to dst the national significant number
// of num as phonenumbers.GetNationalSignificantNumber builds it: the Italian
// leading zeros (none when the flag is unset or the count is not positive, at
// most maxNSNLength), then the national number.
func nationalSignificantNumber(dst []byte, num *phonenumbers.PhoneNumber) []byte {
	if num.GetItalianLeadingZero() {
		for range min(num.GetNumberOfLeadingZeros(), maxNSNLength) {
			dst = append(dst, '0')
		}
	}
	return strconv.AppendUint(dst, num.GetNationalNumber(), 10)
}

// choose returns the index in v.regions of the region the library assigns
// nsn to (GetRegionCodeForNumber; -1 when it finds none) and whether nsn is a
// valid number of that region. A calling code with one region always gets
// it; for a shared one, the regions are tried in the library's order and the
// first whose leading digits match nsn, or that has none and for which nsn
// is valid, is the number's.
func (v *callingCodeValidity) choose(nsn []byte) (region int, valid bool) {
	switch len(v.regions) {
	case 0:
		return -1, false
	case 1:
		return 0, v.regions[0].valid(nsn)
	}
	for i := range v.regions {
		r := &v.regions[i]
		if r.leadingDigits != nil {
			if r.leadingDigits.matchFull(nsn) {
				return i, r.valid(nsn)
			}
		} else if r.valid(nsn) {
			return i, true
		}
	}
	return -1, false
}

// maxNSNLength is the library's bound on the Italian leading zeros it puts
// in front of a national number (MAX_LENGTH_FOR_NSN).
const maxNSNLength = 17

// validityTables holds, per country calling code, the compiled validity
// patterns, each built on the first number with that code.
var validityTables [1000]struct {
	once sync.Once
	v    *callingCodeValidity
}

// callingCodeValidity is what validity needs of one calling code: its
// regions in the library's order (none for an unknown code, which is never
// valid).
type callingCodeValidity struct {
	regions []regionValidity
}

// regionValidity is one region's validity: the general description and the
// descriptions of every type the library tries, mobile and fixed line first.
// leadingDigits, when the region has them, choose the region among those
// sharing its calling code.
type regionValidity struct {
	code          string // the library's region code ("001" for a non-geographic entity)
	leadingDigits *digitPattern
	general       numberDesc
	types         []numberDesc
}

// valid is the library's getNumberTypeHelper(nsn) != UNKNOWN.
func (r *regionValidity) valid(nsn []byte) bool {
	if !r.general.matches(nsn) {
		return false
	}
	for i := range r.types {
		if r.types[i].matches(nsn) {
			return true
		}
	}
	return false
}

// numberDesc is one PhoneNumberDesc as the library's isNumberMatchingDesc
// reads it: the possible lengths (any length when the list is empty) and the
// whole-string national number pattern.
type numberDesc struct {
	anyLength bool
	lengths   uint64 // bit n set: length n is possible
	pattern   *digitPattern
}

func (d *numberDesc) matches(nsn []byte) bool {
	if !d.anyLength && (len(nsn) >= 64 || d.lengths&(1<<len(nsn)) == 0) {
		return false
	}
	return d.pattern.matchFull(nsn)
}

// newNumberDesc compiles desc as the library does; ok is false for a nil
// description, on which the library would fail.
func newNumberDesc(desc *phonenumbers.PhoneNumberDesc) (d numberDesc, ok bool) {
	if desc == nil {
		return d, false
	}
	re, err := compileDigitPattern("^(?:" + desc.GetNationalNumberPattern() + ")$")
	if err != nil {
		return d, false
	}
	d.pattern = re
	d.anyLength = len(desc.GetPossibleLength()) == 0
	for _, l := range desc.GetPossibleLength() {
		// A length outside 0 to 63 is never a national significant
		// number's (at most 17 zeros and 20 digits), so it sets no bit.
		if l >= 0 && l < 64 {
			d.lengths |= 1 << l
		}
	}
	return d, true
}

// buildCallingCodeValidity compiles the validity tables of calling code cc.
// It returns nil when the metadata cannot be read or is not shaped as the
// library expects, so that numbers with cc go to the library.
func buildCallingCodeValidity(cc int) *callingCodeValidity {
	meta, ok := phoneMetadata()
	if !ok {
		return nil
	}
	codes := phonenumbers.GetRegionCodesForCountryCode(cc)
	v := &callingCodeValidity{}
	for _, region := range codes {
		// IsValidNumberForRegion: a non-geographic entity's metadata comes
		// by calling code, a region's by region code and must carry cc.
		// Only the library's region choice reads leading digits, and only
		// for a shared calling code.
		var md *phonenumbers.PhoneMetadata
		switch {
		case region == nonGeoRegion && len(codes) == 1:
			md = meta.nonGeo[cc]
		case region != nonGeoRegion:
			md = meta.byRegion[region]
			if md != nil && int(md.GetCountryCode()) != cc {
				return nil
			}
		}
		if md == nil {
			return nil
		}
		r := regionValidity{code: region}
		if ld := md.GetLeadingDigits(); ld != "" && len(codes) > 1 {
			re, err := compileDigitPattern("^(?:" + ld + ")")
			if err != nil {
				return nil
			}
			r.leadingDigits = re
		}
		if r.general, ok = newNumberDesc(md.GetGeneralDesc()); !ok {
			return nil
		}
		types := []*phonenumbers.PhoneNumberDesc{md.GetMobile(), md.GetFixedLine(), md.GetPremiumRate(),
			md.GetTollFree(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(),
			md.GetUan(), md.GetVoicemail()}
		if md.GetSameMobileAndFixedLinePattern() {
			// The library tries mobile only when it is not the fixed line.
			types = types[1:]
		}
		for _, desc := range types {
			d, ok := newNumberDesc(desc)
			if !ok {
				return nil
			}
			r.types = append(r.types, d)
		}
		v.regions = append(v.regions, r)
	}
	return v
}

// isPossibleNumber answers exactly what phonenumbers.IsPossibleNumber
// answers for num (IS_POSSIBLE or IS_POSSIBLE_LOCAL_ONLY), the library's
// length test of the calling code's general description, without building
// the national significant number as a string. A calling code whose
// metadata is not there or not of the expected shape goes to the library.
func isPossibleNumber(num *phonenumbers.PhoneNumber) bool {
	var buf [maxNSNLength + 20]byte
	n := len(nationalSignificantNumber(buf[:0], num))
	if possible, decided := possibleLength(int(num.GetCountryCode()), int32(n)); decided {
		return possible
	}
	return phonenumbers.IsPossibleNumber(num)
}

// possibleLength is isPossibleNumber for a number of calling code cc whose
// national significant number has n digits; decided is false when the
// answer is the library's to give.
func possibleLength(cc int, n int32) (possible, decided bool) {
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	if region == "ZZ" {
		return false, true // INVALID_COUNTRY_CODE
	}
	meta, ok := phoneMetadata()
	if !ok {
		return false, false
	}
	md := meta.byRegion[region]
	if region == nonGeoRegion {
		md = meta.nonGeo[cc]
	}
	general := md.GetGeneralDesc()
	if general == nil {
		return false, false
	}
	if general.GetNationalNumberPattern() == "" {
		return n >= minNSNLength && n <= maxNSNLength, true
	}
	lengths := general.PossibleLength
	if len(lengths) == 0 {
		return false, false
	}
	if lengths[0] == -1 {
		return false, true // INVALID_LENGTH
	}
	for _, l := range general.PossibleLengthLocalOnly {
		if l == n {
			return true, true
		}
	}
	switch {
	case lengths[0] == n:
		return true, true
	case lengths[0] > n, lengths[len(lengths)-1] < n:
		return false, true
	}
	for _, l := range lengths[1:] {
		if l == n {
			return true, true
		}
	}
	return false, true
}

// minNSNLength is the library's MIN_LENGTH_FOR_NSN.
const minNSNLength = 2
