package api

import (
	"encoding/json"
	"unsafe"

	"crmgate/internal/plainjson"
	"crmgate/internal/plainrecord"
	"crmgate/schema"
)

// decodePlain is DecodeImport's first tier: a scanner, without reflection,
// for an import body of the plain shape that nearly every caller sends, and
// for nothing else. It decodes the envelope's keys and each record
// (plainrecord.Scanner.Record: the canonical fields, with custom_fields
// values that are strings, numbers or booleans). Anything else (a key it
// does not know exactly, a key twice in one object, a backslash escape,
// null, a nested value inside custom_fields, a level that is not a plain
// integer, a value of another type, no customers key, anything after the
// body) makes it answer ok = false, and the strict decoders behind it
// decide as before.
//
// So its correctness is one property: whenever it accepts a body, the
// strict whole-body decode accepts it too and gives the same request and
// records. FuzzDecodePlainIsStrict holds it to that; TestDecodePlainShapes
// lists the edges.
//
// Every string it returns points into body itself, without a copy (the
// body is the caller's and never written again: DecodeImport's contract),
// so the records' strings cost nothing beyond the body the request already
// holds, and a record is held once. body must be valid UTF-8 (checkText).
func decodePlain(body []byte) (req ImportRequest, cs []schema.Customer, ok bool) {
	p := plainrecord.Scanner{Scanner: plainjson.Scanner{S: unsafe.String(unsafe.SliceData(body), len(body))}}
	ok = p.Object(func(key string) (uint64, bool) {
		var ok bool
		switch key {
		case "connection":
			req.Connection, ok = p.Str()
			return 1 << 0, ok
		case "mode":
			req.Mode, ok = p.Str()
			return 1 << 1, ok
		case "strict":
			req.Strict, ok = p.Bool()
			return 1 << 2, ok
		case "strict_owner":
			req.StrictOwner, ok = p.Bool()
			return 1 << 3, ok
		case "all_or_nothing":
			req.AllOrNothing, ok = p.Bool()
			return 1 << 4, ok
		case "default_region":
			req.DefaultRegion, ok = p.Str()
			return 1 << 5, ok
		case "customers":
			cs, ok = p.Records(recordsEstimate(body))
			return 1 << 6, ok
		}
		return 0, false
	})
	if !ok || cs == nil || !p.End() {
		return req, nil, false
	}
	req.Customers = make([]json.RawMessage, len(cs))
	return req, cs, true
}
