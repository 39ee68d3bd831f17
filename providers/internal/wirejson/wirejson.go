// Package wirejson holds what both providers' wire codecs share: a JSON
// string written by appending, byte for byte as encoding/json writes it with
// HTML escaping off (AppendString); a value marshalled the same way
// (Marshal); and a JSON value read as text whatever its JSON type (Text).
package wirejson

import "crmgate/internal/jsonappend"

// AppendString appends s to b as a JSON string, as encoding/json writes it
// without HTML escaping (see jsonappend.String).
func AppendString(b []byte, s string) []byte { return jsonappend.String(b, s, false) }
