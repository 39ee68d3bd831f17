package schema

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/nyaruka/phonenumbers"
)

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

func structValidator() *validator.Validate {
	validateOnce.Do(func() {
		validate = validator.New(validator.WithRequiredStructEnabled())
		validate.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			return name
		})
	})
	return validate
}

// Check normalises c in place and reports what is wrong with it as a canonical
// record, before any connection's configuration or provider rule is applied:
// phones become international digits (a number that is not possible is an
// invalid_phone error, a possible but unverified one a phone_unverified
// warning), dates, gender, e-mail, level and tags are checked. A nil record has
// no problems.
func Check(c *Customer) (errs, warns []Issue) {
	return CheckWith(c, CheckOptions{})
}

// CheckOptions are the caller's settings for CheckWith. The zero value is
// Check's behaviour.
type CheckOptions struct {
	// DefaultRegion, when not empty, is the ISO 3166-1 alpha-2 region in
	// which a phone written without "+" or "00" is read as a national
	// number (see NormalizePhoneIn). It should have passed ParseRegion: an
	// unknown region makes every such phone of the record invalid_phone.
	DefaultRegion string
}

// CheckWith is Check with the caller's options: phones are normalised with
// NormalizePhoneIn(value, opts.DefaultRegion); everything else is as Check.
func CheckWith(c *Customer, opts CheckOptions) (errs, warns []Issue) {
	if c == nil {
		return nil, nil
	}
	errs = fieldIssues(errs, c)
	for _, p := range []struct {
		field string
		val   *string
	}{{FieldWhatsApp, &c.WhatsApp}, {FieldPhone, &c.Phone}, {FieldViber, &c.Viber}} {
		if *p.val == "" {
			continue
		}
		digits, verified, err := NormalizePhoneIn(*p.val, opts.DefaultRegion)
		if err != nil {
			errs = append(errs, Issue{Code: CodeInvalidPhone, Field: p.field, Message: err.Error()})
			continue
		}
		*p.val = digits
		if !verified {
			warns = append(warns, Issuef(CodePhoneUnverified, p.field,
				"%s is a possible number but not a valid one per the phone-number metadata", digits))
		}
	}
	for _, p := range []struct {
		field string
		val   *string
	}{{FieldMessenger, &c.Messenger}, {FieldInstagram, &c.Instagram}, {FieldZalo, &c.Zalo}} {
		if *p.val == "" {
			continue
		}
		digits, ok := Digits(*p.val)
		if !ok {
			errs = append(errs, Issuef(CodeInvalidPhone, p.field, "%s must be digits only", p.field))
			continue
		}
		*p.val = digits
	}
	errs = append(errs, checkTags(FieldTags, c.Tags)...)
	errs = append(errs, checkTags(FieldRemoveTags, c.RemoveTags)...)
	return errs, warns
}

func checkTags(field string, tags []string) []Issue {
	var errs []Issue
	for _, t := range tags {
		switch {
		case strings.TrimSpace(t) == "":
			errs = append(errs, Issuef(CodeInvalidTag, field, "a tag must not be empty"))
		case strings.Contains(t, ","):
			errs = append(errs, Issuef(CodeInvalidTag, field, "tag %q contains a comma; the providers join tags with commas", t))
		}
	}
	return errs
}

// fieldIssues appends the issues of c's validate tags (see Customer), in
// field order, with the codes and messages fieldIssue gives the validator's
// errors; it is what structValidator().Struct(c) finds, without walking the
// struct by reflection for every record (TestFieldIssuesAsValidator holds
// the two equal). Only the e-mail address is left to the validator.
func fieldIssues(errs []Issue, c *Customer) []Issue {
	for _, f := range [...]struct {
		field string
		val   string
		max   int
	}{{FieldName, c.Name, 255}, {FieldFirstName, c.FirstName, 128}, {FieldLastName, c.LastName, 128}} {
		if len(f.val) > f.max && utf8.RuneCountInString(f.val) > f.max {
			errs = append(errs, Issuef(CodeTooLong, f.field, "%s is longer than %d characters", f.field, f.max))
		}
	}
	switch c.Gender {
	case "", "male", "female", "unknown":
	default:
		errs = append(errs, Issuef(CodeInvalidGender, FieldGender, "gender must be male, female or unknown, not %q", c.Gender))
	}
	if c.Birthday != "" {
		if !IsDate(c.Birthday) {
			errs = append(errs, Issuef(CodeInvalidDate, FieldBirthday, "%s must be a date YYYY-MM-DD, not %q", FieldBirthday, c.Birthday))
		}
	}
	if c.Email != "" && !plainEmail(c.Email) {
		if err := structValidator().Var(c.Email, "email"); err != nil {
			errs = append(errs, Issuef(CodeInvalidEmail, FieldEmail, "%q is not an e-mail address", c.Email))
		}
	}
	if c.Level != nil {
		switch {
		case *c.Level < 1:
			errs = append(errs, Issuef(CodeInvalidValue, FieldLevel, "%s must be at least 1", FieldLevel))
		case *c.Level > 5:
			errs = append(errs, Issuef(CodeInvalidValue, FieldLevel, "%s must be at most 5", FieldLevel))
		}
	}
	return errs
}

// plainEmail reports whether s is an e-mail address of the plain form most
// are written in, which the validator's email rule accepts too
// (TestPlainEmailIsValidatorEmail): a local part of ASCII letters, digits
// and ._%+- without a dot at either end or two in a row, "@", and two or
// more labels of letters, digits and inner hyphens, the last of two or more
// letters. false says only that the validator must decide.
func plainEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 || len(s) > 254 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '%' && c != '+' && c != '-' {
			return false
		}
	}
	labels := 0
	for domain != "" {
		label, rest, more := strings.Cut(domain, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
		labels++
		if !more {
			// The last label: letters only.
			if len(label) < 2 {
				return false
			}
			for i := 0; i < len(label); i++ {
				if c := label[i] | 0x20; c < 'a' || c > 'z' {
					return false
				}
			}
			return labels >= 2
		}
		domain = rest
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// phoneSeparators are what people type between digits: it removes spaces,
// dashes, brackets, dots and no-break spaces (U+00A0), as a strings.Replacer
// of those would, allocating only when there is something to remove.
var phoneSeparators separatorStripper

type separatorStripper struct{}

func (st separatorStripper) Replace(s string) string {
	var buf [32]byte // the digits of a phone number as people write it fit
	if out := st.appendTo(buf[:0], s); string(out) != s {
		return string(out)
	}
	return s
}

// appendTo appends s without its separators to dst.
func (separatorStripper) appendTo(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '.':
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0:
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// NormalizePhone turns a phone number as a person types it ("+86 152-6666-7780")
// or as the providers write it (international digits, "8615266667780") into
// international digits without "+". A leading "00" is read as the international
// prefix. Letters are never accepted (no vanity-number conversion).
//
// It returns an error when the input is not a phone number or not even possible
// for its country; verified is false when the number is possible but not valid
// according to libphonenumber's metadata.
func NormalizePhone(s string) (digits string, verified bool, err error) {
	if digits, verified, ok := normalizeInternational(s); ok {
		return digits, verified, nil
	}
	return normalizeParsed(s)
}

// normalizeParsed is NormalizePhone through the library's number, for
// every input.
func normalizeParsed(s string) (digits string, verified bool, err error) {
	raw := phoneSeparators.Replace(strings.TrimSpace(s))
	raw = strings.TrimPrefix(raw, "+")
	if strings.HasPrefix(raw, "00") {
		raw = raw[2:]
	}
	if raw == "" {
		return "", false, errors.New("not a phone number")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", false, errors.New("a phone number holds digits only (international form, e.g. +86 152 6666 7780)")
		}
	}
	num, perr := parseInternational(raw)
	if perr != nil {
		return "", false, fmt.Errorf("not a phone number: %v", perr)
	}
	if !isPossibleNumber(num) {
		return "", false, errors.New("not a possible phone number for its country (wrong length)")
	}
	return e164Digits(num, raw), isValidNumber(num), nil
}

// normalizeInternational is NormalizePhone for the numbers nearly every
// record holds, written internationally and of splitInternational's common
// form, without building the library's number: the separators are stripped
// on the stack, and length and validity are asked of the calling code's
// tables directly. Their E.164 digits are the digits written. ok is false
// for anything else (a number that is not possible included, for
// NormalizePhone's error), which NormalizePhone reads as before.
func normalizeInternational(s string) (digits string, verified, ok bool) {
	t := strings.TrimSpace(s)
	var buf [32]byte
	raw := phoneSeparators.appendTo(buf[:0], t)
	if len(raw) > 0 && raw[0] == '+' {
		raw = raw[1:]
	}
	if len(raw) >= 2 && raw[0] == '0' && raw[1] == '0' {
		raw = raw[2:]
	}
	cc, split, ok := splitInternational(raw)
	if !ok {
		return "", false, false
	}
	nsn := raw[split:]
	codes, _ := callingCodes() // there: splitInternational read it
	if possible, decided := codes[cc].possibleNSN(len(nsn)); !possible || !decided {
		return "", false, false
	}
	valid, decided := validNSN(int32(cc), nsn)
	if !decided {
		return "", false, false
	}
	if len(t) >= len(raw) && t[len(t)-len(raw):] == string(raw) {
		return t[len(t)-len(raw):], valid, true
	}
	return string(raw), valid, true
}

// e164Digits is phonenumbers.Format(num, phonenumbers.E164) without its
// "+": the calling code and the national significant number, for a number
// parsed without its raw input (as phonenumbers.Parse parses). When that is
// raw, the digits it was parsed from (as it is for nearly every number
// written internationally), it is raw itself; otherwise one allocation
// instead of the library's builders.
func e164Digits(num *phonenumbers.PhoneNumber, raw string) string {
	var buf [8 + maxNSNLength + 20]byte
	b := nationalSignificantNumber(strconv.AppendInt(buf[:0], int64(num.GetCountryCode()), 10), num)
	if string(b) == raw {
		return raw
	}
	return string(b)
}

// ErrUnknownRegion is the error of ParseRegion and NormalizePhoneIn for a
// region that is not an ISO 3166-1 alpha-2 code the phone-number library knows.
var ErrUnknownRegion = errors.New("not a known ISO 3166-1 alpha-2 region")

// ParseRegion checks a default region for NormalizePhoneIn and returns it in
// upper case: "cn" and "CN" are "CN". The empty string is no region and
// returns "" without error. Anything else that is not a region the
// phone-number library has metadata for (two letters; "001", the
// non-geographic entities, and "ZZ", the unknown region, are not regions)
// is an error wrapping ErrUnknownRegion.
func ParseRegion(region string) (string, error) {
	if region == "" {
		return "", nil
	}
	up := strings.ToUpper(strings.TrimSpace(region))
	if len(up) != 2 || !phonenumbers.GetSupportedRegions()[up] {
		return "", fmt.Errorf("region %q: %w", region, ErrUnknownRegion)
	}
	return up, nil
}

// NormalizePhoneIn is NormalizePhone with a default region, for numbers
// written without a country code ("152 6666 7780", "030 123456").
//
// With region "" it is exactly NormalizePhone. Otherwise region is read as
// ParseRegion reads it (an unknown one is an error wrapping
// ErrUnknownRegion, whatever the number); a number written with "+" or a
// leading "00" is international whatever the region, as in NormalizePhone;
// any other string of digits is a number of the region as the phone-number
// library parses one (phonenumbers.Parse(digits, region)): the region's
// national (trunk) prefix is taken off ("0152…" in DE, "1 202…" in US), and
// digits that begin with the region's own calling code and are not a
// national number without it are read as international ("8615266667780"
// in CN). The result, errors and verified are as NormalizePhone's.
func NormalizePhoneIn(s, region string) (digits string, verified bool, err error) {
	if region == "" {
		return NormalizePhone(s)
	}
	rc, err := ParseRegion(region)
	if err != nil {
		return "", false, err
	}
	raw := phoneSeparators.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(raw, "+") || strings.HasPrefix(raw, "00") {
		return NormalizePhone(s)
	}
	if raw == "" {
		return "", false, errors.New("not a phone number")
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", false, errors.New("a phone number holds digits only (international form, e.g. +86 152 6666 7780, or national digits)")
		}
	}
	num, perr := phonenumbers.Parse(raw, rc)
	if perr != nil {
		return "", false, fmt.Errorf("not a phone number: %v", perr)
	}
	if !isPossibleNumber(num) {
		return "", false, fmt.Errorf("not a possible phone number (wrong length) read as a number of %s", rc)
	}
	return e164Digits(num, raw), isValidNumber(num), nil
}

// Digits strips the separators people type (spaces, dashes, dots, brackets and
// a leading "+") and reports whether what is left is a non-empty string of digits.
func Digits(s string) (string, bool) {
	raw := strings.TrimPrefix(phoneSeparators.Replace(strings.TrimSpace(s)), "+")
	if raw == "" {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return "", false
		}
	}
	return raw, true
}

// IsDate reports whether s is a calendar date written YYYY-MM-DD, exactly
// as time.Parse(time.DateOnly, s) accepts it: four digits of year, two of
// month (01 to 12) and two of a day the month has in that year.
func IsDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	year, ok1 := digitsValue(s[0:4])
	month, ok2 := digitsValue(s[5:7])
	day, ok3 := digitsValue(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// IsTimeOfDay reports whether s is a time of day written HH:mm:ss, exactly
// as time.Parse("15:04:05", s) accepts it when s has those eight
// characters: hours 00 to 23, minutes and seconds 00 to 59.
func IsTimeOfDay(s string) bool {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return false
	}
	h, ok1 := digitsValue(s[0:2])
	m, ok2 := digitsValue(s[3:5])
	sec, ok3 := digitsValue(s[6:8])
	return ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60
}

// digitsValue is the value of s, ASCII digits only; ok is false for
// anything else.
func digitsValue(s string) (n int, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
