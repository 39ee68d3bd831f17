// Package commalist reads the comma-joined lists the providers' wire forms
// use for tags, multi-select options and attachment URLs ("Tag A,Tag B":
// "separated by English commas").
package commalist

import "strings"

// Split splits s at its commas, trims each item and drops the empty ones.
// It never returns nil: "" and ", ," give an empty list.
func Split(s string) []string {
	out := make([]string, 0, strings.Count(s, ",")+1)
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
