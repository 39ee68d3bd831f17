// Package secret holds the one type for a credential read from
// configuration: it prints, logs and marshals as "***", and Reveal returns
// the value for the one place that needs it.
package secret

// Value is a credential from configuration.
type Value string

// Reveal returns the secret's value.
func (s Value) Reveal() string { return string(s) }

// String hides the value.
func (s Value) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v.
func (s Value) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Value) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText hides the value.
func (s Value) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
