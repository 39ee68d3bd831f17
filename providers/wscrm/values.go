package wscrm

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"crmgate/providers/internal/commalist"
)

// How WSCRM's values read canonically: one reader per kind, for the query
// answer and the webhooks alike.

// Date layouts.
const (
	layoutDay      = "2006-01-02" // canonical; extension dates as the document's examples write them; the webhook's DOB
	layoutBirthday = "2006/01/02" // birthday: "currently only this format is supported"
)

// canonicalGender reads WSCRM's gender spellings, in any case: male, female
// and unknown as the import takes them, MALE, FEMALE and the provider's own
// UNKOWNN as its webhooks write them (UNKNOWN and UNKNOW too). Anything else
// is returned lowercased; "" stays "".
func canonicalGender(s string) string {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "unkownn", "unknow":
		return "unknown"
	default:
		return l
	}
}

// canonicalDay reads a date as yyyy/MM/dd, yyyy-MM-dd (either optionally
// followed by a time) or the given layout, and returns YYYY-MM-DD; anything
// else is returned trimmed but otherwise as given.
func canonicalDay(s, layout string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	day := s
	if i := strings.IndexAny(day, " T"); i > 0 {
		day = day[:i]
	}
	layouts := []string{layoutDay, layoutBirthday}
	if layout != "" {
		layouts = append([]string{layout}, layouts...)
	}
	for _, l := range layouts {
		for _, cand := range []string{s, day} {
			if t, err := time.Parse(l, cand); err == nil {
				return t.Format(layoutDay)
			}
		}
	}
	return s
}

// listOf reads a list value (tags, multi-select options, attachment URLs) as
// its items:
//
//   - a JSON array: its items, nested arrays flattened, strings trimmed and
//     kept whole, numbers as their text;
//   - a string: a JSON array written as text is read as one; otherwise a
//     comma list, optionally bracketed as the webhooks write it ("[Tag 1,Tag
//     2]").
//
// Null and empty items are dropped; anything else is no item. It never
// returns nil.
func listOf(v any) []string {
	out := []string{}
	var walk func(v any, top bool)
	walk = func(v any, top bool) {
		switch t := v.(type) {
		case string:
			if top {
				out = append(out, parseList(t)...)
			} else if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		case []any:
			for _, e := range t {
				walk(e, false)
			}
		case json.Number:
			out = append(out, t.String())
		case float64:
			out = append(out, strconv.FormatFloat(t, 'f', -1, 64))
		}
	}
	walk(v, true)
	return out
}

// parseList reads a list written as text (see listOf).
func parseList(s string) []string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var arr []any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if d.Decode(&arr) == nil && !d.More() {
			return listOf(arr)
		}
		if strings.HasSuffix(s, "]") {
			s = s[1 : len(s)-1]
		}
	}
	return commalist.Split(s)
}
