package answer

import "testing"

// Count counts the results by status; Valid is set by a valid record or
// by a validation's provider requests, and left out of an import's answer.
func TestCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                              string
		statuses                          []Status
		requests                          []ProviderRequest
		total, succeeded, failed, unknown int
		valid                             int // -1: Valid left nil
	}{
		{name: "an import", statuses: []Status{StatusSucceeded, StatusFailed, StatusUnknown, StatusSucceeded}, total: 4, succeeded: 2, failed: 1, unknown: 1, valid: -1},
		{name: "a validation", statuses: []Status{StatusValid, StatusFailed, StatusValid}, requests: []ProviderRequest{{Method: "POST"}}, total: 3, failed: 1, valid: 2},
		{name: "a validation with nothing valid", statuses: []Status{StatusFailed}, requests: []ProviderRequest{}, total: 1, failed: 1, valid: 0},
		{name: "no record", valid: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := &Answer{Total: 99, Succeeded: 99, Failed: 99, Unknown: 99, ProviderRequests: tc.requests}
			for _, s := range tc.statuses {
				a.Results = append(a.Results, Result{Status: s})
			}
			a.Count()
			if a.Total != tc.total || a.Succeeded != tc.succeeded || a.Failed != tc.failed || a.Unknown != tc.unknown {
				t.Errorf("counts %d/%d/%d of %d, want %d/%d/%d of %d", a.Succeeded, a.Failed, a.Unknown, a.Total, tc.succeeded, tc.failed, tc.unknown, tc.total)
			}
			if (a.Valid == nil) != (tc.valid < 0) || (a.Valid != nil && *a.Valid != tc.valid) {
				t.Errorf("valid %v, want %d", a.Valid, tc.valid)
			}
		})
	}
}
