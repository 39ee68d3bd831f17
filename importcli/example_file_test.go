package importcli_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"crmgate/fieldconfig"
	"crmgate/jobs"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/schema"
)

// examples/contacts.csv, the README's worked example for sandbox-nxlink
// (--map Mobile=whatsapp --default-region CN), holds the bad rows the README
// promises and only those: its rows go through the jobs package's reading
// and mapping, the canonical checks with region CN, the sandbox field
// configuration and the job's dedupe.
func TestExampleContactsFile(t *testing.T) {
	f, err := os.Open("../examples/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := jobs.NewCSVReader(f, jobs.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fc := nxlinksim.SampleFieldConfig()
	m, err := jobs.NewMapping(rd.Header(), map[string]string{"Mobile": "whatsapp"}, fc.CustomFields)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Unmapped(), ","); got != "Notes" {
		t.Errorf("unmapped columns %q, want Notes", got)
	}
	rules := fieldconfig.MustCompile(fc)
	dedupe := jobs.NewDedupe(16)
	got := map[int]schema.Code{} // spreadsheet row → first error code
	rows := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		var c schema.Customer
		dec := json.NewDecoder(strings.NewReader(string(m.Record(row.Cells))))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("row %d: %v", row.Number, err)
		}
		errs, _ := schema.CheckWith(&c, schema.CheckOptions{DefaultRegion: "CN"})
		_, e := rules.Check(&c)
		errs = append(errs, e...)
		if len(errs) == 0 {
			if _, dup := dedupe.See(c.WhatsApp, row.Number); dup {
				errs = append(errs, schema.Issue{Code: jobs.CodeDuplicateInJob})
			}
		}
		if len(errs) > 0 {
			got[row.Number] = errs[0].Code
		}
	}
	want := map[int]schema.Code{6: schema.CodeInvalidPhone, 7: schema.CodeInvalidOption, 8: jobs.CodeDuplicateInJob, 9: schema.CodeRequired}
	if rows != 12 || len(got) != len(want) {
		t.Fatalf("%d rows; failures %v, want %v", rows, got, want)
	}
	for r, code := range want {
		if got[r] != code {
			t.Errorf("row %d: %q, want %q", r, got[r], code)
		}
	}
}
