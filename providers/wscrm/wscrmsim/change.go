package wscrmsim

// A sandbox change, in canonical terms, written as the profile webhook's
// item: which field it names and how its values are spelled.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/sandbox"
	"crmgate/schema"
)

// extConfig is the fieldConfig of each custom field type.
var extConfig = map[string]int{
	fieldconfig.TypeText:         configSingleLine,
	fieldconfig.TypeTextarea:     configMultiLine,
	fieldconfig.TypeSingleSelect: configSingleSelect,
	fieldconfig.TypeMultiSelect:  configMultiSelect,
	fieldconfig.TypeNumber:       configNumber,
	fieldconfig.TypeDate:         configDate,
	fieldconfig.TypeTime:         configTime,
	fieldconfig.TypeAttachment:   configAttachment,
}

// changedField resolves the field a sandbox change names: a basic field the
// profile webhook carries, by canonical name or label, or a custom field of
// rules by name or WSCRM key. Anything else is a *sandbox.ChangeFieldError.
func changedField(field string, rules *fieldconfig.Rules) (basicField, *fieldconfig.CustomField, error) {
	if f, ok := basicFieldOf(field); ok && f.label != "" {
		return f, nil, nil
	}
	var custom []fieldconfig.CustomField
	if rules != nil {
		custom = rules.Config().CustomFields
	}
	for i := range custom {
		if custom[i].Name == field || custom[i].Key() == field {
			return basicField{}, &custom[i], nil
		}
	}
	e := &sandbox.ChangeFieldError{Field: field}
	for _, f := range basicFields {
		if f.label != "" {
			e.Canonical = append(e.Canonical, f.canonical)
			e.Labels = append(e.Labels, f.label)
		}
	}
	slices.Sort(e.Canonical)
	slices.Sort(e.Labels)
	for _, f := range custom {
		e.Custom = append(e.Custom, f.Name)
	}
	return basicField{}, nil, e
}

// changedItem fills field, fieldType, fieldConfig, sourceValue and
// targetValue of a profile-update item from a change (see changedField for
// what field may be).
func changedItem(field string, rules *fieldconfig.Rules, from, to json.RawMessage) (profileItem, error) {
	basic, custom, err := changedField(field, rules)
	if err != nil {
		return profileItem{}, err
	}
	if custom == nil {
		item := profileItem{Field: basic.label, FieldType: fieldTypeBasic, FieldConfig: basic.config}
		if item.SourceValue, err = basicValue(basic.canonical, from); err != nil {
			return item, fmt.Errorf("from: %v", err)
		}
		if item.TargetValue, err = basicValue(basic.canonical, to); err != nil {
			return item, fmt.Errorf("to: %v", err)
		}
		return item, nil
	}
	item := profileItem{Field: custom.Key(), FieldType: fieldTypeExt}
	if item.TargetValue, item.FieldConfig, err = extValue(to, extConfig[custom.Type]); err != nil {
		return item, fmt.Errorf("to: %v", err)
	}
	if item.SourceValue, _, err = extValue(from, item.FieldConfig); err != nil {
		return item, fmt.Errorf("from: %v", err)
	}
	return item, nil
}

// basicValue is a basic field's canonical value as the profile webhook
// writes it: gender MALE, FEMALE or UNKOWNN; birthday yyyy-MM-dd; tags a
// bracketed list ("[Tag 1,Tag 2]"). Absent and null are "".
func basicValue(canonical string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if canonical == schema.FieldTags {
		var tags []string
		if err := json.Unmarshal(raw, &tags); err != nil {
			return "", errors.New("tags: an array of strings")
		}
		for _, t := range tags {
			if strings.TrimSpace(t) == "" || strings.ContainsAny(t, ",[]") {
				return "", fmt.Errorf("tags: %q is empty or holds a comma or bracket", t)
			}
		}
		return "[" + strings.Join(tags, ",") + "]", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: a string", canonical)
	}
	if v == "" {
		return "", nil
	}
	switch canonical {
	case schema.FieldGender:
		label, ok := sexValues[v]
		if !ok {
			return "", fmt.Errorf("gender: %q is not male, female or unknown", v)
		}
		return label, nil
	case schema.FieldBirthday:
		if _, err := time.Parse(layoutDate, v); err != nil {
			return "", fmt.Errorf("birthday: %q is not YYYY-MM-DD", v)
		}
	}
	return v, nil
}

var (
	dateValue = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timeValue = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}$`)
)

// extValue is an extension field's value as the profile webhook writes it,
// with the fieldConfig it implies. When want is not 0 (the field's type, or
// the "from" of a change whose "to" set it) the value is written in that
// kind.
func extValue(raw json.RawMessage, want int) (string, int, error) {
	if isNull(raw) {
		if want == 0 {
			want = configSingleLine
		}
		return "", want, nil
	}
	switch bytes.TrimSpace(raw)[0] {
	case '[':
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", 0, errors.New("an array of strings")
		}
		for _, v := range list {
			if strings.Contains(v, ",") {
				return "", 0, fmt.Errorf("%q holds a comma", v)
			}
		}
		kind := want
		if kind == 0 {
			kind = configMultiSelect
			if len(list) > 0 && !slices.ContainsFunc(list, func(u string) bool { return !isWebURL(u) }) {
				kind = configAttachment
			}
		}
		if kind == configAttachment {
			return strings.Join(list, ","), kind, nil
		}
		return "[" + strings.Join(list, ",") + "]", kind, nil
	case '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", 0, err
		}
		kind := want
		switch {
		case kind != 0:
		case dateValue.MatchString(v):
			kind = configDate
		case timeValue.MatchString(v):
			kind = configTime
		default:
			kind = configSingleLine
		}
		return v, kind, nil
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", 0, errors.New("a string, a number or an array of strings")
		}
		if _, err := n.Float64(); err != nil {
			return "", 0, fmt.Errorf("%s is not a number", n)
		}
		kind := want
		if kind == 0 {
			kind = configNumber
		}
		return n.String(), kind, nil
	}
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}
