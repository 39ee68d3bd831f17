package providertest_test

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"crmgate/providers/providertest"
)

// The fake adapter without a flaw passes the whole suite.
func TestRunPassesAFlawlessAdapter(t *testing.T) {
	t.Parallel()
	providertest.Run(t, fakeHarness(flawless))
}

// childEnv names the flaw TestFlawedAdapterChild builds its adapter with.
const childEnv = "PROVIDERTEST_FLAW"

// TestFlawedAdapterChild runs the suite against a flawed fake adapter when
// TestRunCatchesFlaws starts this test binary again for it; it is skipped
// otherwise. Its failures are the point: they are read from its output.
func TestFlawedAdapterChild(t *testing.T) {
	f, ok := os.LookupEnv(childEnv)
	if !ok {
		t.Skip("run by TestRunCatchesFlaws")
	}
	if f == "incomplete-harness" {
		providertest.Run(t, providertest.Harness{})
		return
	}
	providertest.Run(t, fakeHarness(flaw(f)))
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: TestFlawedAdapterChild/(\S+) \(`)

// Each flaw makes exactly the checks that are about it fail, and no other.
func TestRunCatchesFlaws(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flaw flaw
		fail []string // the failing checks, innermost subtests
	}{
		{flawSucceedsRefused, []string{"PerRecord/a_ghost_owner", "PerRecord/a_ghost_owner_after_a_full_call"}},
		{flawAnswerOrder, []string{"PerRecord/a_ghost_owner", "PerRecord/a_ghost_owner_after_a_full_call"}},
		{flawIgnoresCap, []string{"Caps/import_merge", "PerRecord/a_ghost_owner_after_a_full_call"}},
		{flawAcceptsRefusal, []string{"WholeCallRefusal"}},
		{flawRetries400, []string{"Final/400"}},
		{flawDropsRetryAfter, []string{"Retryable/503_with_Retry-After", "Retryable/429_with_Retry-After"}},
		{flawFollowsRedirect, []string{"Final/302"}},
		{flawExtraField, []string{"Golden/import"}},
		{flawClaimsReplace, []string{"Capabilities"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.flaw), func(t *testing.T) {
			t.Parallel()
			out := runChild(t, string(tt.flaw))
			var got []string
			for _, m := range failLine.FindAllStringSubmatch(out, -1) {
				got = append(got, m[1])
			}
			// A parent fails with its subtest: keep the innermost.
			var leaves []string
			for _, g := range got {
				if !slices.ContainsFunc(got, func(o string) bool { return strings.HasPrefix(o, g+"/") }) {
					leaves = append(leaves, g)
				}
			}
			slices.Sort(leaves)
			want := slices.Sorted(slices.Values(tt.fail))
			if !slices.Equal(leaves, want) {
				t.Errorf("an adapter with flaw %s failed %v, want %v\n%s", tt.flaw, leaves, want, out)
			}
		})
	}
}

// A harness with holes fails at once, naming each.
func TestRunRefusesAnIncompleteHarness(t *testing.T) {
	t.Parallel()
	out := runChild(t, "incomplete-harness")
	for _, part := range []string{"Factory", "Sandbox", "Stored", "Valid", "Caps", "Golden", "BreakCredentials and RefusedCode", "Mixed", "BadRequest"} {
		if !strings.Contains(out, "Harness."+part) {
			t.Errorf("the failure does not name Harness.%s:\n%s", part, out)
		}
	}
	if strings.Contains(out, "--- FAIL: TestFlawedAdapterChild/") {
		t.Errorf("checks ran on an incomplete harness:\n%s", out)
	}
}

// runChild runs TestFlawedAdapterChild in a new process of this test binary
// with the given flaw, and returns its output, failing t unless it failed.
func runChild(t *testing.T, f string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedAdapterChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+f)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the suite passed an adapter with flaw %s (%v):\n%s", f, err, out)
	}
	return string(out)
}
