package schema

import (
	"fmt"
	"math/rand/v2"
	"strconv"
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
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range types {
			add(phonenumbers.GetExampleNumberForType(region, typ))
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		add(phonenumbers.GetExampleNumberForNonGeoEntity(cc))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for cc := range phonenumbers.GetSupportedCallingCodes() {
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
// phonenumbers.Parse gives, and so does everything NormalizePhone derives.
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
			got.GetExtension(), phonenumbers.Format(got, phonenumbers.E164), phonenumbers.IsPossibleNumber(got), phonenumbers.IsValidNumber(got))
		w := fmt.Sprint(want.GetCountryCode(), want.GetNationalNumber(), want.GetItalianLeadingZero(), want.GetNumberOfLeadingZeros(),
			want.GetExtension(), phonenumbers.Format(want, phonenumbers.E164), phonenumbers.IsPossibleNumber(want), phonenumbers.IsValidNumber(want))
		if g != w {
			t.Errorf("%s: parsed as %s, the library as %s", d, g, w)
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
