// Package fieldconfig is a connection's field configuration: what the
// provider's admin backend allows (required fields, stage/source/language
// options, tags, extension fields), and the checks and encodings that follow
// from it. Records are checked against it before any outbound call.
package fieldconfig

import (
	"encoding/json"
	"fmt"
	"slices"

	"crmgate/internal/keyed"
	"crmgate/schema"
)

// Custom field types.
const (
	TypeText         = "text"
	TypeTextarea     = "textarea"
	TypeNumber       = "number"
	TypeDate         = "date"
	TypeTime         = "time"
	TypeSingleSelect = "single_select"
	TypeMultiSelect  = "multi_select"
	TypeAttachment   = "attachment"
)

// Types lists the custom field types in documentation order.
var Types = []string{TypeText, TypeTextarea, TypeNumber, TypeDate, TypeTime, TypeSingleSelect, TypeMultiSelect, TypeAttachment}

// MaxAttachments is how many attachment URLs one field may hold.
const MaxAttachments = 10

// Config is the field configuration document, as it is written in YAML in the
// configuration file and as JSON in the API. A list the document leaves out
// is null in JSON.
type Config struct {
	Required     []string      `json:"required" yaml:"required" extensions:"x-nullable"`
	Stages       []Option      `json:"stages" yaml:"stages" extensions:"x-nullable"`
	Sources      []Option      `json:"sources" yaml:"sources" extensions:"x-nullable"`
	Languages    []Option      `json:"languages" yaml:"languages" extensions:"x-nullable"`
	Tags         Tags          `json:"tags" yaml:"tags"`
	CustomFields []CustomField `json:"custom_fields" yaml:"custom_fields" extensions:"x-nullable"`
} //	@name	FieldConfig

// Option is one choice the provider's backend offers, with the provider's id
// for it when the provider reports ids (WSCRM's query answers do).
type Option struct {
	Label string `json:"label" yaml:"label"`
	ID    *int64 `json:"id,omitempty" yaml:"id,omitempty"`
} //	@name	FieldOption

// Tags says which tags are known; with Strict an unknown tag is invalid_option.
type Tags struct {
	Strict bool     `json:"strict" yaml:"strict"`
	Known  []string `json:"known" yaml:"known" extensions:"x-nullable"`
} //	@name	TagConfig

// CustomField is one extension field of the provider's backend.
type CustomField struct {
	// Name is the canonical name, used as the key in custom_fields, and the
	// WSCRM key.
	Name string `json:"name" yaml:"name"`
	// Type is one of Types.
	Type     string   `json:"type" yaml:"type"`
	Options  []string `json:"options,omitempty" yaml:"options,omitempty"`
	Required bool     `json:"required,omitempty" yaml:"required,omitempty"`
	// MaxLength limits the characters of the value sent (0: no limit).
	MaxLength int `json:"max_length,omitempty" yaml:"max_length,omitempty"`
	// ProviderKey is the provider's own key when it is not Name (NXLink's
	// customize_1_14).
	ProviderKey string `json:"provider_key,omitempty" yaml:"provider_key,omitempty"`
	// Format is, for date fields, the provider's wire format as a Go layout
	// (default "2006-01-02").
	Format string `json:"format,omitempty" yaml:"format,omitempty"`
} //	@name	CustomField

// Key is the provider key of the field: ProviderKey, or Name when that is empty.
func (f *CustomField) Key() string {
	if f.ProviderKey != "" {
		return f.ProviderKey
	}
	return f.Name
}

// Problem is one problem of a field configuration: the key it is about
// ("custom_fields[1].type") and what is wrong there, in words for the person
// who wrote the document.
type Problem = keyed.Problem

// Problems is every problem of a field configuration, in document order. It
// is the error Config.Validate returns, also when a Store wraps it in
// ErrInvalid: take it back with errors.As to show each problem on its own.
type Problems = keyed.Problems

// Validate reports every problem of the document at once: nil, or a
// Problems naming each problem's key.
func (c *Config) Validate() error {
	var ps Problems
	for i, r := range c.Required {
		if !slices.Contains(schema.Fields, r) && c.custom(r) == nil {
			ps.Add(fmt.Sprintf("required[%d]", i), "%q is neither a canonical field nor a configured custom field", r)
		}
	}
	for _, list := range []struct {
		key  string
		opts []Option
	}{{"stages", c.Stages}, {"sources", c.Sources}, {"languages", c.Languages}} {
		seen := map[string]bool{}
		for i, o := range list.opts {
			at := fmt.Sprintf("%s[%d].label", list.key, i)
			switch {
			case o.Label == "":
				ps.Add(at, "must not be empty")
			case seen[o.Label]:
				ps.Add(at, "%q is listed twice", o.Label)
			}
			seen[o.Label] = true
		}
	}
	names := map[string]bool{}
	for i, f := range c.CustomFields {
		at := fmt.Sprintf("custom_fields[%d]", i)
		switch {
		case f.Name == "":
			ps.Add(at+".name", "must not be empty")
		case names[f.Name]:
			ps.Add(at+".name", "%q is listed twice", f.Name)
		}
		names[f.Name] = true
		if !slices.Contains(Types, f.Type) {
			ps.Add(at+".type", "%q is not one of %v", f.Type, Types)
		}
		if f.MaxLength < 0 {
			ps.Add(at+".max_length", "must not be negative")
		}
		if f.Format != "" && f.Type != TypeDate {
			ps.Add(at+".format", "only date fields take a format")
		}
		if (f.Type == TypeSingleSelect || f.Type == TypeMultiSelect) && len(f.Options) == 0 {
			ps.Add(at+".options", "a %s field needs its options", f.Type)
		}
	}
	return ps.Err()
}

func (c *Config) custom(name string) *CustomField {
	for i := range c.CustomFields {
		if c.CustomFields[i].Name == name {
			return &c.CustomFields[i]
		}
	}
	return nil
}

// MarshalJSON writes absent lists as [] rather than null, so clients can
// iterate every list without a check.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	p := plain(c)
	for _, l := range []*[]Option{&p.Stages, &p.Sources, &p.Languages} {
		if *l == nil {
			*l = []Option{}
		}
	}
	if p.Required == nil {
		p.Required = []string{}
	}
	if p.Tags.Known == nil {
		p.Tags.Known = []string{}
	}
	if p.CustomFields == nil {
		p.CustomFields = []CustomField{}
	}
	return json.Marshal(p)
}
