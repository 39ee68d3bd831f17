// Package keyed is the list of problems a component's Validate reports when
// it reports every problem of a document at once: each problem names the key
// it is about ("custom_fields[1].type") and says, in words for the person who
// wrote the document, what is wrong with it.
//
// A Problems value is an error, so that it travels through the usual error
// wrapping, and a caller that shows it (the API's problem+json, a start-up
// error) takes the list back with errors.As instead of parsing a message.
package keyed

import (
	"fmt"
	"strings"
)

// Problem is one problem of a document: the key path it is about and what is
// wrong there. Message is a phrase for users; it carries no Go identifier.
type Problem struct {
	Key     string
	Message string
}

// Error is "key: message" (just the message when Key is empty).
func (p Problem) Error() string {
	if p.Key == "" {
		return p.Message
	}
	return p.Key + ": " + p.Message
}

// Problems is every problem of one document, in the order they were found.
type Problems []Problem

// Add appends a problem of key, its message formatted as fmt.Sprintf does.
func (ps *Problems) Add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// Err is nil when there is no problem, and ps otherwise: return ps.Err(),
// never ps itself, so that "no problem" is a nil error.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Error lists the problems on one line, separated by "; ".
func (ps Problems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns each problem as an error of its own, so that a caller that
// prefixes every problem of a joined error with where the document came from
// (config.Load) sees one error per problem.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
