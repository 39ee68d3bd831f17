// Package strictjson decodes the JSON bodies callers send, strictly: object
// names are matched case-sensitively, a name twice in one object, invalid
// UTF-8 (also as an escaped lone surrogate) and an unknown name are errors,
// and a number decoded into an interface is a json.Number, never a float64
// that could lose digits. It is github.com/go-json-experiment/json (the
// encoding/json/v2 semantics) with those options, and messages that name the
// key or field at fault.
package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// keepNumbers decodes a JSON number into an interface as a json.Number.
var keepNumbers = jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, v *any) error {
	if dec.PeekKind() != '0' {
		return jsonv2.SkipFunc
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return err
	}
	*v = json.Number(tok.String())
	return nil
})

// objectOfValues decodes a JSON object into a map[string]any as the default
// decoding with keepNumbers does (strings, json.Number, booleans, nil, and
// nested arrays and objects through the default), reading the scalar
// members straight from their tokens instead of through a typed lookup and
// reflection per member. Duplicate names and invalid UTF-8 are refused by
// the decoder as before; null and what is not an object go to the default.
var objectOfValues = jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, m *map[string]any) error {
	if dec.PeekKind() != '{' {
		return jsonv2.SkipFunc
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if *m == nil {
		*m = map[string]any{}
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // before the next read voids the token
		var v any
		switch dec.PeekKind() {
		case '"', '0', 't', 'f', 'n':
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			switch tok.Kind() {
			case '"':
				v = tok.String()
			case '0':
				v = json.Number(tok.String())
			case 't', 'f':
				v = tok.Bool()
			}
		default:
			if v, err = nested(dec); err != nil {
				return err
			}
		}
		(*m)[name] = v
	}
	_, err := dec.ReadToken()
	return err
})

// nested decodes the array or object dec is at into an interface.
func nested(dec *jsontext.Decoder) (any, error) {
	var v any
	err := jsonv2.UnmarshalDecode(dec, &v, valueOptions)
	return v, err
}

var (
	unmarshalers = jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(objectOfValues, keepNumbers))
	strict       = jsonv2.JoinOptions(jsonv2.RejectUnknownMembers(true), unmarshalers)
	lenient      = jsonv2.JoinOptions(jsonv2.DiscardUnknownMembers(true), unmarshalers)
	// valueOptions decode a nested value of an object of values (only
	// interfaces below it, so member options do not apply).
	valueOptions = jsonv2.WithUnmarshalers(keepNumbers)
)

// Unmarshal decodes the one JSON value b holds into v, refusing an unknown
// name, a duplicate name, invalid UTF-8 and anything after the value.
func Unmarshal(b []byte, v any) error { return jsonv2.Unmarshal(b, v, strict) }

// UnmarshalKnown is Unmarshal with unknown names skipped (duplicates and
// invalid UTF-8 are still errors).
func UnmarshalKnown(b []byte, v any) error { return jsonv2.Unmarshal(b, v, lenient) }

// UnmarshalDecode decodes the next value of dec into v as Unmarshal does.
func UnmarshalDecode(dec *jsontext.Decoder, v any) error {
	return jsonv2.UnmarshalDecode(dec, v, strict)
}

// IsDuplicate reports whether err is a name found twice in one object, and
// returns the name and the JSON pointer of its object.
func IsDuplicate(err error) (name string, object jsontext.Pointer, ok bool) {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return se.JSONPointer.LastToken(), se.JSONPointer.Parent(), true
	}
	return "", "", false
}

// IsUnknown reports whether err is a name the Go type has no field for, and
// returns the name, the pointer of its object and the field it is a case
// variant of ("" if none).
func IsUnknown(err error) (name string, object jsontext.Pointer, variantOf string, ok bool) {
	var se *jsonv2.SemanticError
	if !errors.As(err, &se) || !errors.Is(se.Err, jsonv2.ErrUnknownName) {
		return "", "", "", false
	}
	name = se.JSONPointer.LastToken()
	return name, se.JSONPointer.Parent(), CaseVariant(name, Names(se.GoType)), true
}

// CaseVariant returns the name of names that name differs from only in case
// ("" when none does, or when name is one of them).
func CaseVariant(name string, names []string) string {
	for _, n := range names {
		if n == name {
			return ""
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// Names lists the JSON names of a struct type's fields (none for another type).
func Names(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported() && !f.Anonymous:
		case f.Anonymous && name == "":
			out = append(out, Names(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

// Kind names the JSON kind a Go type is decoded from: string, number,
// boolean, array, object or value.
func Kind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "value"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "value"
}

// Path spells a JSON pointer as a dotted path ("custom_fields.Level",
// "customers.3"); the root is "".
func Path(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

// Message describes a decoding error for a caller: the key or field at
// fault and what is wrong with it, without Go type names.
func Message(err error) string {
	if name, obj, ok := IsDuplicate(err); ok {
		return fmt.Sprintf("the key %q appears twice%s", name, within(obj))
	}
	if name, obj, variant, ok := IsUnknown(err); ok {
		if variant != "" {
			return fmt.Sprintf("unknown key %q%s: keys are case-sensitive (%q)", name, within(obj), variant)
		}
		return fmt.Sprintf("unknown key %q%s", name, within(obj))
	}
	var sem *jsonv2.SemanticError
	if errors.As(err, &sem) {
		what := "the body"
		if p := Path(sem.JSONPointer); p != "" {
			what = p
		}
		return fmt.Sprintf("%s must be a JSON %s%s", what, Kind(sem.GoType), notKind(sem.JSONKind))
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		if strings.Contains(syn.Error(), "after top-level value") {
			return "the body holds more than one JSON value"
		}
		return strings.TrimPrefix(syn.Error(), "jsontext: ")
	}
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "json: "), "jsontext: ")
}

func within(obj jsontext.Pointer) string {
	if p := Path(obj); p != "" {
		return " in " + p
	}
	return ""
}

func notKind(k jsontext.Kind) string {
	switch k {
	case '"':
		return ", not a string"
	case '0':
		return ", not a number"
	case 't', 'f':
		return ", not a boolean"
	case 'n':
		return ", not null"
	case '[':
		return ", not an array"
	case '{':
		return ", not an object"
	}
	return ""
}
