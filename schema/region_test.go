package schema

import (
	"errors"
	"testing"
)

// TestNormalizePhoneInRegion: a number written without a country code is read
// in the default region, with or without the region's trunk prefix; "+" and
// "00" are international whatever the region.
func TestNormalizePhoneInRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region, in, want string
		verified         bool
	}{
		{"CN", "152 6666 7780", "8615266667780", true},
		{"CN", "0152 6666 7780", "8615266667780", true},
		{"CN", "010 1234 5678", "861012345678", true},
		{"CN", "10-1234-5678", "861012345678", true},
		{"CN", "8615266667780", "8615266667780", true}, // the region's own calling code, too long without it
		{"CN", "+1 202 555 0123", "12025550123", true},
		{"CN", "00 1 202 555 0123", "12025550123", true},
		{"cn", "15266667780", "8615266667780", true},
		{"US", "(202) 555-0123", "12025550123", true},
		{"US", "1 202 555 0123", "12025550123", true}, // trunk prefix 1
		{"US", "011 86 152 6666 7780", "8615266667780", true},
		{"US", "+86 152 6666 7780", "8615266667780", true},
		{"GB", "07400 123456", "447400123456", true},
		{"GB", "7400 123456", "447400123456", true},
		{"GB", "020 7946 0000", "442079460000", true},
		{"GB", "20 7946 0000", "442079460000", true},
		{"GB", "0044 20 7946 0000", "442079460000", true},
		{"DE", "030 123456", "4930123456", true},
		{"DE", "30 123456", "4930123456", true},
		{"DE", "0151 23456789", "4915123456789", true},
		{"DE", "151 23456789", "4915123456789", true},
		{"DE", "+49 151 23456789", "4915123456789", true},
		// International digits without "+" are national digits once a
		// region is given: in DE these are a (possible) national number.
		{"DE", "4915123456789", "494915123456789", true},
		{"DE", "12", "4912", false},
	}
	for _, tt := range tests {
		got, verified, err := NormalizePhoneIn(tt.in, tt.region)
		if err != nil || got != tt.want || verified != tt.verified {
			t.Errorf("NormalizePhoneIn(%q, %q) = %q, %v, %v; want %q, %v, nil", tt.in, tt.region, got, verified, err, tt.want, tt.verified)
		}
	}
}

func TestNormalizePhoneInRefuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ region, in string }{
		{"US", "8615266667780"}, // national digits, too long for US
		{"CN", "152 6666 abcd"},
		{"GB", ""},
		{"GB", "   "},
		{"DE", "+"},
	} {
		if got, _, err := NormalizePhoneIn(tt.in, tt.region); err == nil || errors.Is(err, ErrUnknownRegion) {
			t.Errorf("NormalizePhoneIn(%q, %q) = %q, %v; want a phone error", tt.in, tt.region, got, err)
		}
	}
	for _, region := range []string{"XX", "ZZ", "001", "CHN", "C", "1", "中国"} {
		if _, _, err := NormalizePhoneIn("+86 152 6666 7780", region); !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("NormalizePhoneIn with region %q: err = %v, want ErrUnknownRegion", region, err)
		}
		if _, err := ParseRegion(region); !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("ParseRegion(%q): err = %v, want ErrUnknownRegion", region, err)
		}
	}
	for in, want := range map[string]string{"": "", "cn": "CN", "Gb": "GB", "DE": "DE", "us": "US"} {
		if got, err := ParseRegion(in); err != nil || got != want {
			t.Errorf("ParseRegion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestNormalizePhoneInNoRegion: without a region, every input gives exactly
// what NormalizePhone gives, byte for byte, errors included.
func TestNormalizePhoneInNoRegion(t *testing.T) {
	t.Parallel()
	inputs := append(phoneInputs(), "+86 152-6666-7780", "0086 152 6666 7780", "152 6666 7780", "abc", "", " ", "+", "00")
	for _, in := range inputs {
		d1, v1, e1 := NormalizePhone(in)
		d2, v2, e2 := NormalizePhoneIn(in, "")
		if d1 != d2 || v1 != v2 || (e1 == nil) != (e2 == nil) || (e1 != nil && e1.Error() != e2.Error()) {
			t.Fatalf("%q: NormalizePhone = %q, %v, %v; NormalizePhoneIn(_, \"\") = %q, %v, %v", in, d1, v1, e1, d2, v2, e2)
		}
	}
}

func TestCheckWithDefaultRegion(t *testing.T) {
	t.Parallel()
	c := Customer{WhatsApp: "152 6666 7780", Phone: "+44 20 7946 0000"}
	if errs, _ := CheckWith(&c, CheckOptions{DefaultRegion: "CN"}); len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if c.WhatsApp != "8615266667780" || c.Phone != "442079460000" {
		t.Errorf("whatsapp %q, phone %q", c.WhatsApp, c.Phone)
	}
	// Without a region the digits are international digits: the same
	// national number is +1 526 666 7780.
	c = Customer{WhatsApp: "152 6666 7780"}
	Check(&c)
	if c.WhatsApp != "15266667780" {
		t.Errorf("Check without region: whatsapp %q, want the international reading 15266667780", c.WhatsApp)
	}
}
