package answer

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"crmgate/schema"
)

// tricky are pieces of strings that encoding/json escapes, or must leave
// alone: quotes and backslashes, every kind of control character, HTML
// characters, DEL, U+2028 and U+2029, invalid and truncated UTF-8, and
// multi-byte characters.
var tricky = []string{"", "a", "plain text", `"`, `\`, "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f",
	"<", ">", "&", "<script>&amp;</script>", "\u2028", "\u2029", "\u2027", "\u202a", "\xff", "\xe2\x80", "\xc3", "\xed\xa0\x80",
	"é", "李雷", "😀", "\ufffd", "+8615266667780", "invalid_phone", "customers[0].whatsapp"}

func randomString(r *rand.Rand) string {
	var sb strings.Builder
	for range r.IntN(4) {
		sb.WriteString(tricky[r.IntN(len(tricky))])
	}
	return sb.String()
}

func randomIssues(r *rand.Rand) []schema.Issue {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []schema.Issue{}
	}
	out := make([]schema.Issue, 1+r.IntN(3))
	for i := range out {
		out[i] = schema.Issue{Code: schema.Code(randomString(r)), Field: randomString(r), Message: randomString(r),
			ProviderCode: randomString(r), ProviderMessage: randomString(r)}
	}
	return out
}

func randomAnswer(r *rand.Rand) *Answer {
	a := &Answer{RequestID: randomString(r), Connection: randomString(r), Provider: randomString(r),
		Total: r.IntN(3) - 1, Succeeded: r.IntN(1 << 20), Failed: r.IntN(2), Unknown: -r.IntN(2)}
	if r.IntN(2) == 0 {
		v := r.IntN(5)
		a.Valid = &v
	}
	if n := r.IntN(4); n > 0 || r.IntN(2) == 0 {
		a.Results = make([]Result, n)
		for i := range a.Results {
			a.Results[i] = Result{Index: r.IntN(10001), Ref: randomString(r), Status: Status(randomString(r)),
				ProviderID: randomString(r), Errors: randomIssues(r), Warnings: randomIssues(r), RetryAfter: r.IntN(3) - 1}
		}
	}
	if n := r.IntN(3); n > 0 || r.IntN(2) == 0 {
		a.ProviderCalls = make([]CallReport, n)
		for i := range a.ProviderCalls {
			c := CallReport{Path: randomString(r), HTTPStatus: r.IntN(600), ProviderCode: randomString(r), TraceID: randomString(r),
				Records: r.IntN(101), Attempts: r.IntN(4), Error: randomString(r), Note: randomString(r)}
			switch r.IntN(3) {
			case 0:
				c.Extra = map[string]json.RawMessage{}
			case 1:
				c.Extra = map[string]json.RawMessage{"zeta": json.RawMessage(`[1, "<b>"]`), "alpha": json.RawMessage(` 7 `),
					randomString(r): json.RawMessage(`{"a" : "\u2028&"}`)}
			}
			if r.IntN(2) == 0 {
				c.ProviderCounts = &ProviderCounts{Succeeded: r.IntN(100), Failed: r.IntN(100)}
			}
			a.ProviderCalls[i] = c
		}
	}
	switch r.IntN(3) {
	case 0:
		a.ProviderRequests = []ProviderRequest{}
	case 1:
		a.ProviderRequests = []ProviderRequest{{Method: "POST", Path: randomString(r),
			Body: map[string]any{"type": 1, "customers": []any{map[string]any{"full_name": randomString(r), "weight": 1.5}}, "app_key": "***"}}}
	}
	return a
}

// AppendJSON writes the bytes json.Marshal writes, over answers of every
// shape: nil and empty lists, omitted and present optional fields, extra
// provider fields, validations' provider requests, and strings of every
// kind encoding/json escapes.
func TestAppendJSONAsMarshal(t *testing.T) {
	t.Parallel()
	valid := 2
	fixed := []*Answer{
		{},
		{RequestID: "r1", Connection: "sandbox-nxlink", Provider: "nxlink", Total: 1, Succeeded: 1,
			Results:       []Result{{Index: 0, Ref: "crm-1", Status: StatusSucceeded, ProviderID: "42", Warnings: []schema.Issue{}}},
			ProviderCalls: []CallReport{{Path: "/batch_create", HTTPStatus: 200, TraceID: "t-1", Records: 1, Attempts: 1}}},
		{RequestID: "r2", Total: 2, Failed: 1, Valid: &valid, Results: []Result{
			{Index: 0, Status: StatusFailed, Errors: []schema.Issue{{Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "not a <phone>"}}},
			{Index: 1, Status: StatusUnknown, RetryAfter: 30, Warnings: []schema.Issue{{Code: schema.CodeUnknownField, Message: "x"}}}},
			ProviderCalls: []CallReport{}, ProviderRequests: []ProviderRequest{{Method: "POST", Path: "/p", Body: map[string]any{"b": "&", "a": nil}}}},
	}
	r := rand.New(rand.NewPCG(11, 1))
	for range 2000 {
		fixed = append(fixed, randomAnswer(r))
	}
	for i, a := range fixed {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if !bytes.Equal(got[len("prefix"):], want) || !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("answer %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// A call's extra field that is not JSON fails the answer as Marshal fails it.
func TestAppendJSONBadExtra(t *testing.T) {
	t.Parallel()
	a := &Answer{ProviderCalls: []CallReport{{Extra: map[string]json.RawMessage{"x": json.RawMessage("{")}}}}
	if _, err := json.Marshal(a); err == nil {
		t.Fatal("Marshal took it")
	}
	if _, err := a.AppendJSON(nil); err == nil {
		t.Fatal("AppendJSON took it")
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	a := &Answer{RequestID: "0123456789abcdef0123456789abcdef", Connection: "nx-fast", Provider: "nxlink", Total: 1, Succeeded: 1,
		Results:       []Result{{Index: 0, Ref: "crm-1", Status: StatusSucceeded, ProviderID: "42", Warnings: []schema.Issue{}}},
		ProviderCalls: []CallReport{{Path: "/batch_create", HTTPStatus: 200, TraceID: "t-1", Records: 1, Attempts: 1}}}
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = a.AppendJSON(buf[:0])
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(a)
		}
	})
}
