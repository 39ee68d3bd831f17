package schema

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/google/go-cmp/cmp"
)

// validatorIssues is what the validator finds in c's validate tags, as
// issues: the reference fieldIssues is held to.
func validatorIssues(c *Customer) []Issue {
	var errs []Issue
	if err := structValidator().Struct(c); err != nil {
		var ves validator.ValidationErrors
		if errors.As(err, &ves) {
			for _, fe := range ves {
				errs = append(errs, fieldIssue(fe))
			}
		}
	}
	return errs
}

// fieldIssue is the issue of one validator error.
func fieldIssue(fe validator.FieldError) Issue {
	field := fe.Field()
	switch fe.Tag() {
	case "oneof":
		if field == FieldGender {
			return Issuef(CodeInvalidGender, field, "gender must be male, female or unknown, not %q", fe.Value())
		}
		return Issuef(CodeInvalidOption, field, "%s must be one of %s", field, fe.Param())
	case "datetime":
		return Issuef(CodeInvalidDate, field, "%s must be a date YYYY-MM-DD, not %q", field, fe.Value())
	case "email":
		return Issuef(CodeInvalidEmail, field, "%q is not an e-mail address", fe.Value())
	case "max":
		if fe.Kind() == reflect.String {
			return Issuef(CodeTooLong, field, "%s is longer than %s characters", field, fe.Param())
		}
		return Issuef(CodeInvalidValue, field, "%s must be at most %s", field, fe.Param())
	case "min":
		return Issuef(CodeInvalidValue, field, "%s must be at least %s", field, fe.Param())
	}
	return Issuef(CodeInvalidValue, field, "%s is not valid (%s)", field, fe.Tag())
}

// TestFieldIssuesAsValidator: the hand-written checks of the validate tags
// give what the validator gives, code, field and message, in the same
// order, for values on both sides of every bound.
func TestFieldIssuesAsValidator(t *testing.T) {
	t.Parallel()
	lvl := func(n int) *int { return &n }
	names := []string{"", "Li", strings.Repeat("a", 128), strings.Repeat("a", 129), strings.Repeat("é", 128), strings.Repeat("é", 129),
		strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("語", 255), strings.Repeat("語", 256), "\xff\xfe"}
	genders := []string{"", "male", "female", "unknown", "Male", "other", " male"}
	birthdays := []string{"", "1990-04-12", "1990-4-12", "1990-02-30", "1990-13-01", "12/04/1990", "1990-04-12T00:00:00Z", "0000-01-01"}
	emails := []string{"", "liheng@example.com", "a@b", "not-an-email", "a@b.c", "li heng@example.com", "李@例子.中国", "a@@b.com"}
	levels := []*int{nil, lvl(0), lvl(1), lvl(5), lvl(6), lvl(-1)}
	n := 0
	for i, name := range names {
		for j, g := range genders {
			for k, b := range birthdays {
				e := emails[(i+j+k)%len(emails)]
				l := levels[(i*3+j+k)%len(levels)]
				c := &Customer{Name: name, FirstName: names[(i+1)%len(names)], LastName: names[(i+j)%len(names)],
					Gender: g, Birthday: b, Email: e, Level: l}
				want := validatorIssues(c)
				got := fieldIssues(nil, c)
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("%+v: (-validator +fieldIssues):\n%s", c, d)
				}
				n += len(want)
			}
		}
	}
	for _, e := range emails {
		c := &Customer{Email: e}
		if d := cmp.Diff(validatorIssues(c), fieldIssues(nil, c)); d != "" {
			t.Fatalf("email %q: (-validator +fieldIssues):\n%s", e, d)
		}
	}
	if n == 0 {
		t.Fatal("no issue at all: the table checks nothing")
	}
}

// TestPlainEmailIsValidatorEmail: every address the fast path takes, the
// validator's email rule takes too, over addresses built from parts at and
// around the edges of the plain form; and the usual forms are taken.
func TestPlainEmailIsValidatorEmail(t *testing.T) {
	t.Parallel()
	locals := []string{"a", "li.heng", "li_heng+tag", "x%y", "-a", "a-", ".a", "a.", "a..b", "A9", "é", "a b", "a\"b", strings.Repeat("a", 64), strings.Repeat("a", 65), ""}
	domains := []string{"example.com", "b.co", "a.b.c.de", "x-y.org", "-x.org", "x-.org", "x.c", "x.c0", "x.123", "localhost", "ex..com", ".ex.com", "ex.com.", "xn--fsq.com", "EXAMPLE.COM", "例子.中国", "a_b.com", strings.Repeat("a", 63) + ".com", strings.Repeat("a", 64) + ".com", ""}
	v := structValidator()
	taken := 0
	for _, l := range locals {
		for _, d := range domains {
			for _, s := range []string{l + "@" + d, l + "@@" + d, l + d} {
				if !plainEmail(s) {
					continue
				}
				taken++
				if err := v.Var(s, "email"); err != nil {
					t.Errorf("plainEmail(%q) is true but the validator refuses it", s)
				}
			}
		}
	}
	for _, s := range []string{"liheng@example.com", "fengchangqing@tang.com", "First.Last+x@mail.example.co.uk"} {
		if !plainEmail(s) {
			t.Errorf("plainEmail(%q) = false", s)
		}
	}
	if taken < 20 {
		t.Fatalf("only %d addresses taken: the table checks little", taken)
	}
}

// TestIsDateAndTimeOfDayAsTimeParse: IsDate and IsTimeOfDay accept exactly
// what time.Parse accepts with their layouts (the time of day at eight
// characters), on every day of four years around leap days and centuries,
// every time of day, their neighbours out of range, and random strings of
// their alphabet.
func TestIsDateAndTimeOfDayAsTimeParse(t *testing.T) {
	t.Parallel()
	var dates, times []string
	for _, y := range []int{0, 1900, 1999, 2000, 2024, 2100, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				dates = append(dates, fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	for h := 0; h <= 25; h++ {
		for m := 0; m <= 61; m += 1 + m/10 {
			for s := 0; s <= 61; s += 1 + s/10 {
				times = append(times, fmt.Sprintf("%02d:%02d:%02d", h, m, s))
			}
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0123456789-: +.aZ"
	for range 50000 {
		b := make([]byte, 6+r.IntN(6))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		dates, times = append(dates, string(b)), append(times, string(b))
	}
	dates = append(dates, "", "2024-1-01", "2024-01-1", "+024-01-01", "2024-01-01 ", "2024/01/01", "２０２４-01-01")
	accepted := 0
	for _, s := range dates {
		_, err := time.Parse(time.DateOnly, s)
		if IsDate(s) != (err == nil) {
			t.Errorf("IsDate(%q) = %v, time.Parse error %v", s, IsDate(s), err)
		}
		if err == nil {
			accepted++
		}
	}
	for _, s := range times {
		_, err := time.Parse("15:04:05", s)
		if want := err == nil && len(s) == 8; IsTimeOfDay(s) != want {
			t.Errorf("IsTimeOfDay(%q) = %v, time.Parse error %v", s, IsTimeOfDay(s), err)
		}
	}
	if accepted < 1000 {
		t.Errorf("only %d dates accepted: the inputs do not exercise the calendar", accepted)
	}
}
