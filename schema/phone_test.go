package schema

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneInputs are international digit strings to hold parseInternational to
// phonenumbers.Parse: every example number of every region and type, the
// same with the national prefix or a 0 put back after the country code, one
// digit shorter and longer, random digits after every calling code, and
// inputs that must take the library's own path.
func phoneInputs() []string {
	in := []string{"8615266667780", "8618163710000", "15555550100", "4402079460000", "442079460000",
		"390612345678", "3906", "7", "86", "861", "0086152", "999123456", "1", "12", "123", "8001234567",
		"862112345678901234567", "1234567890123456789012"}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	add := func(num *phonenumbers.PhoneNumber) {
		if num == nil {
			return
		}
		cc := strconv.Itoa(int(num.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(num)
		region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
		in = append(in, cc+nsn, cc+"0"+nsn, cc+phonenumbers.GetNddPrefixForRegion(region, true)+nsn,
			cc+nsn[:len(nsn)-1], cc+nsn+"5")
	}
	for _, region := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		for _, typ := range types {
			add(phonenumbers.GetExampleNumberForType(region, typ))
		}
	}
	for _, cc := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedGlobalNetworkCallingCodes())) {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, cc := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedCallingCodes())) {
		for range 40 {
			s := strconv.Itoa(cc)
			for range 1 + r.IntN(18) {
				s += strconv.Itoa(r.IntN(10))
			}
			in = append(in, s)
		}
	}
	return in
}

// TestParseInternationalMatchesLibrary: the fast path gives exactly what
// phonenumbers.Parse gives, and so does everything NormalizePhone derives
// (validity is a function of the fields compared here; it is held to the
// library's by TestIsValidNumberMatchesLibrary, which includes these inputs).
func TestParseInternationalMatchesLibrary(t *testing.T) {
	t.Parallel()
	inputs := phoneInputs()
	fast := 0
	for _, d := range inputs {
		if _, ok := parseInternationalFast(d); ok {
			fast++
		}
		got, gotErr := parseInternational(d)
		want, wantErr := phonenumbers.Parse("+"+d, "")
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, the library's %v", d, gotErr, wantErr)
			continue
		}
		if wantErr != nil {
			continue
		}
		g := fmt.Sprint(got.GetCountryCode(), got.GetNationalNumber(), got.GetItalianLeadingZero(), got.GetNumberOfLeadingZeros(),
			got.GetExtension(), phonenumbers.Format(got, phonenumbers.E164), phonenumbers.IsPossibleNumber(got))
		w := fmt.Sprint(want.GetCountryCode(), want.GetNationalNumber(), want.GetItalianLeadingZero(), want.GetNumberOfLeadingZeros(),
			want.GetExtension(), phonenumbers.Format(want, phonenumbers.E164), phonenumbers.IsPossibleNumber(want))
		if g != w {
			t.Errorf("%s: parsed as %s, the library as %s", d, g, w)
		}
		if e, w := e164Digits(got, d), strings.TrimPrefix(phonenumbers.Format(want, phonenumbers.E164), "+"); e != w {
			t.Errorf("%s: E.164 digits %s, the library's %s", d, e, w)
		}
	}
	if fast < len(inputs)/2 {
		t.Errorf("only %d of %d inputs took the fast path", fast, len(inputs))
	}
	t.Logf("%d inputs, %d on the fast path", len(inputs), fast)
}

func BenchmarkNormalizePhone(b *testing.B) {
	for b.Loop() {
		if _, _, err := NormalizePhone("+86 152 6666 7780"); err != nil {
			b.Fatal(err)
		}
	}
}

// validityInputs are phone numbers to hold isValidNumber to
// phonenumbers.IsValidNumber: every example number of every type of every
// region and non-geographic entity, each with every digit changed, a digit
// added and one removed; random national numbers of 1 to 17 digits after
// every calling code, more of them after the calling codes several regions
// share; numbers with Italian leading zeros (one, two, none, a negative and a
// huge count); unknown calling codes; and whatever parseInternational makes of
// phoneInputs. Duplicates are dropped.
func validityInputs() []*phonenumbers.PhoneNumber {
	type key struct {
		cc                  int32
		national            uint64
		italian, hasItalian bool
		zeros               int32
		hasZeros            bool
	}
	seen := map[key]bool{}
	var out []*phonenumbers.PhoneNumber
	add := func(num *phonenumbers.PhoneNumber) {
		k := key{num.GetCountryCode(), num.GetNationalNumber(), num.GetItalianLeadingZero(), num.ItalianLeadingZero != nil,
			num.GetNumberOfLeadingZeros(), num.NumberOfLeadingZeros != nil}
		if !seen[k] {
			seen[k] = true
			out = append(out, num)
		}
	}
	number := func(cc int, nsn string) {
		n, err := strconv.ParseUint(nsn, 10, 64)
		if err != nil {
			return
		}
		code := int32(cc)
		add(&phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &n})
		if nsn[0] == '0' {
			// The national number as the library keeps it, with its leading
			// zeros counted apart.
			zeros := int32(len(nsn) - len(strings.TrimLeft(nsn, "0")))
			italian := true
			add(&phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &n, ItalianLeadingZero: &italian,
				NumberOfLeadingZeros: &zeros})
		}
	}
	variants := func(cc int, nsn string) {
		number(cc, nsn)
		for i := range len(nsn) {
			// Two other digits in every place: the next one and the one five on.
			for _, step := range []byte{1, 5} {
				number(cc, nsn[:i]+string('0'+(nsn[i]-'0'+step)%10)+nsn[i+1:])
			}
			number(cc, nsn[:i]+nsn[i+1:])
			number(cc, nsn[:i]+"7"+nsn[i:])
		}
		number(cc, nsn+"0")
		number(cc, nsn+"9")
		number(cc, "0"+nsn)
		number(cc, "00"+nsn)
	}
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	example := func(num *phonenumbers.PhoneNumber) {
		if num != nil {
			add(num)
			variants(int(num.GetCountryCode()), phonenumbers.GetNationalSignificantNumber(num))
		}
	}
	for _, region := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		for _, typ := range types {
			example(phonenumbers.GetExampleNumberForType(region, typ))
		}
	}
	for _, cc := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedGlobalNetworkCallingCodes())) {
		example(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	r := rand.New(rand.NewPCG(3, 4))
	random := func(cc, count int) {
		for range count {
			var b strings.Builder
			for range 1 + r.IntN(17) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
			number(cc, b.String())
		}
	}
	for _, cc := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedCallingCodes())) {
		random(cc, 60)
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 1 {
			random(cc, 500)
		}
	}
	// Numbers that are valid except for their Italian leading zeros, and
	// leading-zero counts the library clamps or ignores.
	italian := true
	for _, zeros := range []int32{1, 2, 0, -1, 40} {
		for _, region := range []string{"IT", "VA", "GB", "CI", "SM", "US", "RU", "DE"} {
			for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
				num := phonenumbers.GetExampleNumberForType(region, typ)
				if num == nil {
					continue
				}
				cc, n := num.GetCountryCode(), num.GetNationalNumber()
				add(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &n, ItalianLeadingZero: &italian, NumberOfLeadingZeros: &zeros})
			}
		}
	}
	add(&phonenumbers.PhoneNumber{CountryCode: func() *int32 { c := int32(39); return &c }(),
		NationalNumber: func() *uint64 { n := uint64(612345678); return &n }(), ItalianLeadingZero: &italian})
	for _, cc := range []int{0, -1, 999, 1000, 1 << 20} {
		number(cc, "2025550123")
	}
	add(&phonenumbers.PhoneNumber{})
	for _, d := range phoneInputs() {
		if num, err := parseInternational(d); err == nil {
			add(num)
		}
	}
	return out
}

// TestIsValidNumberMatchesLibrary: isValidNumber answers exactly what
// phonenumbers.IsValidNumber answers, on tens of thousands of numbers.
func TestIsValidNumberMatchesLibrary(t *testing.T) {
	t.Parallel()
	inputs := validityInputs()
	if len(inputs) < 50000 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	valid, diffs, shared := 0, 0, 0
	for _, num := range inputs {
		got, want := isValidNumber(num), phonenumbers.IsValidNumber(num)
		// The steps on the way must be the library's too: the national
		// significant number, and the region of a shared calling code.
		gotNSN, wantNSN := string(nationalSignificantNumber(nil, num)), phonenumbers.GetNationalSignificantNumber(num)
		gotRegion, wantRegion, tabled := "", "", false
		if len(phonenumbers.GetRegionCodesForCountryCode(int(num.GetCountryCode()))) > 1 {
			shared++
			gotRegion, tabled = chosenRegion(num)
			wantRegion = phonenumbers.GetRegionCodeForNumber(num)
		}
		if got != want || gotNSN != wantNSN || (tabled && gotRegion != wantRegion) {
			if diffs++; diffs <= 20 {
				t.Errorf("+%d %d (italian leading zero %v, %d zeros): valid %v in %q as %s, the library %v in %q as %s",
					num.GetCountryCode(), num.GetNationalNumber(), num.GetItalianLeadingZero(), num.GetNumberOfLeadingZeros(),
					got, gotRegion, gotNSN, want, wantRegion, wantNSN)
			}
		}
		if want {
			valid++
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d inputs differ", diffs, len(inputs))
	}
	// Both answers must be well represented for the comparison to mean much.
	if valid < len(inputs)/10 || valid > len(inputs)*9/10 {
		t.Errorf("%d of %d inputs valid: too one-sided", valid, len(inputs))
	}
	if shared < 10000 {
		t.Errorf("only %d inputs with a shared calling code", shared)
	}
	t.Logf("%d inputs, %d valid, %d with a shared calling code", len(inputs), valid, shared)
}

// TestIsValidNumberCases: known numbers, among them the region choices of
// shared calling codes, give the answer and the region the library gives.
func TestIsValidNumberCases(t *testing.T) {
	t.Parallel()
	num := func(cc int32, national uint64, italianZeros int32) *phonenumbers.PhoneNumber {
		n := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national}
		if italianZeros != 0 {
			italian := true
			n.ItalianLeadingZero, n.NumberOfLeadingZeros = &italian, &italianZeros
		}
		return n
	}
	for _, tc := range []struct {
		name   string
		num    *phonenumbers.PhoneNumber
		region string
		valid  bool
	}{
		{"US, first of +1", num(1, 2025550123, 0), "US", true},
		{"CA, no leading digits, valid after US", num(1, 6132345678, 0), "CA", true},
		{"+1 no region is valid for", num(1, 1005550199, 0), "", false},
		{"JE, valid after GB and GG", num(44, 1534456789, 0), "JE", true},
		{"GG, valid after GB", num(44, 7781123456, 0), "GG", true},
		{"IM by leading digits", num(44, 1624756789, 0), "IM", true},
		{"IM by leading digits, too short", num(44, 1624, 0), "IM", false},
		{"GB, first of +44", num(44, 1212345678, 0), "GB", true},
		{"KZ by leading digits", num(7, 7012345678, 0), "KZ", true},
		{"KZ by leading digits, too short", num(7, 70, 0), "KZ", false},
		{"RU by leading digits", num(7, 3012345678, 0), "RU", true},
		{"RU by leading digits, too short", num(7, 31, 0), "RU", false},
		{"CC among +61", num(61, 891621234, 0), "CC", true},
		{"BL before GP among +590", num(590, 590271234, 0), "BL", true},
		{"GP among +590", num(590, 690001234, 0), "GP", true},
		{"YT among +262", num(262, 269601234, 0), "YT", true},
		{"IT with its leading zero", num(39, 612345678, 1), "IT", true},
		{"VA with its leading zero", num(39, 6698123456, 1), "VA", true},
		{"IT mobile", num(39, 3123456789, 0), "IT", true},
		{"+39 only zeros", num(39, 0, 1), "", false},
		{"non-geographic +800", num(800, 12345678, 0), "001", true},
		{"non-geographic +808, too short", num(808, 1234567, 0), "001", false},
		{"unknown calling code", num(999, 2025550123, 0), "", false},
		{"calling code 0", num(0, 2025550123, 0), "", false},
		{"calling code beyond 999", num(1000, 2025550123, 0), "", false},
		{"empty number", &phonenumbers.PhoneNumber{}, "", false},
		{"nil", nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := isValidNumber(tc.num); got != tc.valid {
				t.Errorf("isValidNumber = %v, want %v", got, tc.valid)
			}
			if got := phonenumbers.IsValidNumber(tc.num); got != tc.valid {
				t.Errorf("the library's IsValidNumber = %v, want %v", got, tc.valid)
			}
			if got := phonenumbers.GetRegionCodeForNumber(tc.num); got != tc.region {
				t.Errorf("the library's region = %q, want %q", got, tc.region)
			}
			if got, ok := chosenRegion(tc.num); ok && got != tc.region {
				t.Errorf("region = %q, want %q", got, tc.region)
			}
		})
	}
}

// chosenRegion is the region isValidNumber's tables assign num to ("" for
// none); ok is false when num goes to the library instead.
func chosenRegion(num *phonenumbers.PhoneNumber) (region string, ok bool) {
	cc := num.GetCountryCode()
	if cc <= 0 || cc >= int32(len(validityTables)) {
		return "", false
	}
	v := callingCodeTable(cc)
	if v == nil {
		return "", false
	}
	if i, _ := v.choose(nationalSignificantNumber(nil, num)); i >= 0 {
		return v.regions[i].code, true
	}
	return "", true
}

// BenchmarkIsValidNumber compares isValidNumber with the library on the
// fixed-line and mobile example numbers of every region, one number per op.
func BenchmarkIsValidNumber(b *testing.B) {
	var nums []*phonenumbers.PhoneNumber
	for _, region := range slices.Sorted(maps.Keys(phonenumbers.GetSupportedRegions())) {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE} {
			if num := phonenumbers.GetExampleNumberForType(region, typ); num != nil {
				nums = append(nums, num)
			}
		}
	}
	for _, bc := range []struct {
		name  string
		valid func(*phonenumbers.PhoneNumber) bool
	}{{"library", phonenumbers.IsValidNumber}, {"tables", isValidNumber}} {
		b.Run(bc.name, func(b *testing.B) {
			for _, num := range nums {
				bc.valid(num) // build what is built on first use
			}
			i := 0
			for b.Loop() {
				if !bc.valid(nums[i]) {
					b.Fatalf("%v is not valid", nums[i])
				}
				if i++; i == len(nums) {
					i = 0
				}
			}
		})
	}
}

// TestPhoneSeparatorsAsReplacer: the separators are removed exactly as a
// strings.Replacer of them removes them, invalid UTF-8 and a lone 0xC2
// included.
func TestPhoneSeparatorsAsReplacer(t *testing.T) {
	t.Parallel()
	want := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "", "\u00a0", "")
	alphabet := []string{" ", "-", "(", ")", ".", "\u00a0", "\xc2", "\xa0", "1", "+", "a", "\u3000", "\xff"}
	r := rand.New(rand.NewPCG(5, 6))
	inputs := []string{"", "+86 152-6666-7780", "(030) 123.456", "8615266667780", "\u00a0\u00a0", "\xc2"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		if got, w := phoneSeparators.Replace(in), want.Replace(in); got != w {
			t.Errorf("%q: %q, the replacer %q", in, got, w)
		}
	}
}

// TestIsPossibleNumberMatchesLibrary: isPossibleNumber answers what
// phonenumbers.IsPossibleNumber answers, on the validity inputs (every
// calling code, lengths on both sides of every bound, Italian zeros).
func TestIsPossibleNumberMatchesLibrary(t *testing.T) {
	t.Parallel()
	inputs := validityInputs()
	cc := int32(999)
	national := uint64(12345)
	inputs = append(inputs, &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national}) // no such calling code
	possible, diffs := 0, 0
	for _, num := range inputs {
		got, want := isPossibleNumber(num), phonenumbers.IsPossibleNumber(num)
		if got != want {
			if diffs++; diffs <= 20 {
				t.Errorf("+%d %d (%d zeros): possible %v, the library %v", num.GetCountryCode(), num.GetNationalNumber(),
					num.GetNumberOfLeadingZeros(), got, want)
			}
		}
		if want {
			possible++
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d inputs differ", diffs, len(inputs))
	}
	if possible < len(inputs)/10 || possible > len(inputs)*9/10 {
		t.Errorf("%d of %d inputs possible: too one-sided", possible, len(inputs))
	}
	t.Logf("%d inputs, %d possible", len(inputs), possible)
}

// TestNormalizeInternationalMatchesParsed: the fast path of NormalizePhone
// gives what the path through the library's number gives, on every
// parseInternational input written as people write it (with "+", "00",
// spaces, dashes, brackets, dots and no-break spaces, surrounding spaces)
// and with letters or too many separators mixed in, and takes most of them.
func TestNormalizeInternationalMatchesParsed(t *testing.T) {
	t.Parallel()
	var inputs []string
	for i, d := range phoneInputs() {
		spaced := d
		if len(d) > 5 {
			spaced = d[:2] + " " + d[2:5] + "-" + d[5:]
		}
		inputs = append(inputs, d, "+"+d, "00"+d, " +"+spaced+" ", "("+d[:1]+")"+d[1:], "+"+d[:1]+".\u00a0"+d[1:],
			"+"+d+"a", "+ "+strings.Repeat("-", i%40)+d, "++"+d, "+00"+d, "0"+d)
	}
	fast, accepted := 0, 0
	for _, in := range inputs {
		gd, gv, gok := normalizeInternational(in)
		wd, wv, werr := normalizeParsed(in)
		if werr == nil {
			accepted++
		}
		if !gok {
			continue
		}
		fast++
		if werr != nil || gd != wd || gv != wv {
			t.Errorf("%q: fast path %q verified %v, the parsed path %q verified %v error %v", in, gd, gv, wd, wv, werr)
		}
	}
	if fast < accepted/2 {
		t.Errorf("only %d of the %d inputs accepted took the fast path", fast, accepted)
	}
	t.Logf("%d inputs, %d accepted, %d on the fast path", len(inputs), accepted, fast)
}
