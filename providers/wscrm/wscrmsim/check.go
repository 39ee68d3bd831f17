package wscrmsim

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"crmgate/fieldconfig"
	"crmgate/providers/internal/commalist"
)

// checkRecord applies the document's per-record checks; the first failure is
// the record's errExcel entry. pool selects the import-pool form of
// single-select values. Call with s.mu held.
func (s *Simulator) checkRecord(rec map[string]any, pool bool) *errExcel {
	phone := text(rec[keyWhatsApp])
	fail := func(code int, info string) *errExcel {
		return &errExcel{ErrPhone: phone, ErrInfo: info, ErrCode: code}
	}
	if text(rec[keyAgentAccount]) == "" {
		return fail(CodeRequiredMissing, "Required field validation failed: "+keyAgentAccount)
	}
	if phone == "" {
		return fail(CodePhoneEmpty, "Phone number is empty")
	}
	for _, r := range phone {
		if r < '0' || r > '9' {
			return fail(CodePhoneInvalid, "PHONE_ERROR")
		}
	}
	if s.busy[phone] {
		return fail(CodeBusy, "friendWhatsId data is processing")
	}
	if v := text(rec[keySex]); v != "" {
		if _, ok := sexValues[v]; !ok {
			return fail(CodeInvalidGender, "Gender field sex format is invalid")
		}
	}
	if v := text(rec[keyBirthday]); v != "" {
		if _, err := time.Parse(layoutBirthday, v); err != nil {
			return fail(CodeDateFormat, "birthday field type format error")
		}
	}
	if v := text(rec[keyStage]); v != "" && len(s.stageIDs) > 0 {
		if _, ok := s.stageIDs[v]; !ok {
			return fail(CodeStageMissing, "Stage field value does not exist")
		}
	}
	if v := text(rec[keySource]); v != "" && len(s.sourceIDs) > 0 {
		if _, ok := s.sourceIDs[v]; !ok {
			return fail(CodeSourceMissing, "Source field value does not exist")
		}
	}
	if v := text(rec[keyLanguageTag]); v != "" && len(s.languages) > 0 && !s.languages[v] {
		return fail(CodeLanguageMissing, "Customer language value does not exist")
	}
	for _, k := range s.required {
		if text(rec[k]) == "" {
			return fail(CodeRequiredMissing, "Required field validation failed: "+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.ext)) {
		f := s.ext[k]
		v, present := rec[k]
		t := text(v)
		if !present || t == "" {
			if f.Required {
				return fail(CodeRequiredMissing, "Required field validation failed: "+k)
			}
			continue
		}
		if code, info := checkExtension(k, f, v, t, pool); code != 0 {
			return fail(code, info)
		}
	}
	return nil
}

// checkExtension checks one extension-field value, sent under key; 0 means
// it passes. Per the document: a number is a JSON number or numeric text; a
// date yyyy-MM-dd (or the field's own format); a time HH:mm:ss; a
// single-select one configured option, on the import-pool endpoints as a
// JSON-array string; a multi-select and an attachment comma lists without
// empty items, of configured options and of at most MaxAttachments http(s)
// URLs.
func checkExtension(key string, f *fieldconfig.CustomField, v any, t string, pool bool) (int, string) {
	switch f.Type {
	case fieldconfig.TypeNumber:
		if _, err := strconv.ParseFloat(t, 64); err != nil {
			return CodeExtNumber, "Extension field - number type format error: " + key
		}
	case fieldconfig.TypeDate:
		layouts := []string{layoutDate, layoutBirthday}
		if f.Format != "" {
			layouts = []string{f.Format}
		}
		if !slices.ContainsFunc(layouts, func(l string) bool { _, err := time.Parse(l, t); return err == nil }) {
			return CodeDateFormat, "Extension field - date type format error: " + key
		}
	case fieldconfig.TypeTime:
		if _, err := time.Parse(layoutTime, t); err != nil || len(t) != len(layoutTime) {
			return CodeExtTime, "Extension field - time type format error: " + key
		}
	case fieldconfig.TypeSingleSelect:
		opt := t
		if pool {
			var one []string
			if err := json.Unmarshal([]byte(t), &one); err != nil || len(one) != 1 {
				return CodeExtSingleSelect, "Extension field - single-select type format error: " + key
			}
			opt = one[0]
		}
		if !slices.Contains(f.Options, opt) {
			return CodeExtSingleSelect, "Extension field - single-select type format error: " + key
		}
	case fieldconfig.TypeMultiSelect:
		opts, whole := items(t)
		if !whole || !allIn(opts, f.Options) {
			return CodeExtMultiSelect, "Extension field - multi-select type format error: " + key
		}
	case fieldconfig.TypeAttachment:
		urls, whole := items(t)
		if len(urls) > MaxAttachments {
			return CodeAttachmentTooMany, "Extension field - attachment url too long: " + key
		}
		if !whole || slices.ContainsFunc(urls, func(u string) bool { return !isWebURL(u) }) {
			return CodeAttachmentBadURL, "Extension field - invalid attachment URL: " + key
		}
	}
	if _, isString := v.(string); isString && f.MaxLength > 0 && utf8.RuneCountInString(t) > f.MaxLength {
		return CodeExtTooLong, "Extension field content exceeds length: " + key
	}
	return 0, ""
}

// items splits a comma list; whole is false when an item is empty ("A,,B").
func items(t string) (list []string, whole bool) {
	list = commalist.Split(t)
	return list, len(list) == strings.Count(t, ",")+1
}

// allIn reports whether every item of list is one of options.
func allIn(list, options []string) bool {
	for _, it := range list {
		if !slices.Contains(options, it) {
			return false
		}
	}
	return true
}

// isWebURL reports whether u is an absolute http(s) URL with a host.
func isWebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}
