package schema

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// nationalPrefixes holds, per country calling code, the anchored pattern of
// the national prefix the phone-number library strips while parsing (nil when
// the code's main region has none). It is built once from the library's own
// metadata; ok is false when that metadata could not be read.
var nationalPrefixes = sync.OnceValues(func() (map[int]*regexp.Regexp, bool) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil || coll == nil {
		return nil, false
	}
	byRegion := map[string]*phonenumbers.PhoneMetadata{}
	nonGeo := map[int]*phonenumbers.PhoneMetadata{}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			nonGeo[int(md.GetCountryCode())] = md
		} else {
			byRegion[md.GetId()] = md
		}
	}
	out := map[int]*regexp.Regexp{}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		region := phonenumbers.GetRegionCodeForCountryCode(cc)
		md := byRegion[region]
		if region == "001" {
			md = nonGeo[cc]
		}
		if md == nil {
			return nil, false
		}
		var re *regexp.Regexp
		if p := md.GetNationalPrefixForParsing(); p != "" {
			if re, err = regexp.Compile("^(?:" + p + ")"); err != nil {
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
	if len(digits) < 4 || len(digits) > 20 || digits[0] == '0' {
		return nil, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, false
		}
	}
	prefixes, ok := nationalPrefixes()
	if !ok {
		return nil, false
	}
	// The library takes the shortest prefix of 1 to 3 digits that is a known
	// country calling code.
	cc, national := 0, ""
	for i := 1; i <= 3; i++ {
		c, _ := strconv.Atoi(digits[:i])
		if phonenumbers.GetRegionCodeForCountryCode(c) != "ZZ" {
			cc, national = c, digits[i:]
			break
		}
	}
	if cc == 0 || len(national) < 2 || len(national) > 17 || national[0] == '0' {
		return nil, false
	}
	re, known := prefixes[cc]
	if !known || (re != nil && re.MatchString(national)) {
		return nil, false
	}
	n, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return nil, false
	}
	code := int32(cc)
	return &phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &n}, true
}
