// Package nxlinktest holds what the tests of the adapter and of its
// simulator take from NXLink's provider document: its example account and
// clock, the shape of its trace ids, and its example bodies (the golden
// files in providers/nxlink/testdata). It is for tests only.
package nxlinktest

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"
)

// The document's example account and ts.
const (
	AccessKey = "fme2na3kdi3ki"
	Secret    = "s3cr3t"
	TenantID  = 123
	AppKey    = "46oKF=os"
	TS        = 1655710885431
)

// SeatAgent1 is the document's message for the unknown seat agent1.
const SeatAgent1 = "The belonging seat agent1 does not exist. Please go to Management->Members to confirm"

// Now is the instant of TS.
var Now = time.UnixMilli(TS)

// Clock is a clock that always reads Now.
func Clock() time.Time { return Now }

// TraceID matches a trace id as the document's examples write them.
var TraceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Example is the golden file name of providers/nxlink/testdata, wherever
// the test runs from; a missing file fails t.
func Example(t testing.TB, name string) []byte {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
