package jobs

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"crmgate/schema"
)

func TestCSVReport(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w, err := NewReportWriter(&b, KindCSV, []string{"Name", "Phone", "crmgate_status", "Tags"})
	if err != nil {
		t.Fatal(err)
	}
	rows := []ReportRow{
		{Cells: []string{"Ada", "152", "failed", "a,b"}, Status: "failed", Errors: []schema.Issue{
			{Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "not a possible phone number"},
			{Code: schema.CodeRequired, Field: "owner", Message: "owner is required"},
		}},
		{Cells: []string{"Bob"}, Status: "unknown", Errors: []schema.Issue{{Code: schema.CodeProviderUnavailable, Message: "no answer \"in time\""}}},
		{Cells: []string{"Cy", "1", "", "", "extra"}, Status: "failed", Errors: []schema.Issue{{Code: CodeInvalidRow, Message: "row 4 has 5 cells"}}},
		{Cells: []string{"Di", "2", "", ""}, Status: "canceled"},
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "\xEF\xBB\xBF" +
		"Name,Phone,Tags,crmgate_status,crmgate_code,crmgate_field,crmgate_message\n" +
		"Ada,152,\"a,b\",failed,invalid_phone,whatsapp,not a possible phone number | owner is required\n" +
		"Bob,,,unknown,provider_unavailable,,\"no answer \"\"in time\"\"\"\n" +
		"Cy,1,,failed,invalid_row,,row 4 has 5 cells\n" +
		"Di,2,,canceled,,,\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestReportRoundTrip: a report written from a file's rows and read back
// with the same mapping gives the same records, for CSV and XLSX; the
// crmgate_* columns are ignored, and a report of a report does not repeat
// them.
func TestReportRoundTrip(t *testing.T) {
	t.Parallel()
	mapping := map[string]string{"Full Name": "name", "Phone": "whatsapp"}
	in, err := os.Open("testdata/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := NewCSVReader(in, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMapping(r.Header(), mapping, testCustomFields)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(t, r)
	if err != nil || len(rows) != 4 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	var records []string
	for _, row := range rows {
		records = append(records, string(m.Record(row.Cells)))
	}
	for i, want := range []string{`"whatsapp":"152 6666 7780"`, `"name":"Bob \"the builder\""`, `"tags":["a","b","c"]`, `"name":"Dî Ñguyễn 阮"`} {
		if !strings.Contains(records[i], want) {
			t.Errorf("record %d: %s, want it to hold %s", i, records[i], want)
		}
	}
	issue := []schema.Issue{{Code: schema.CodeInvalidPhone, Field: "whatsapp", Message: "bad, \"quoted\"\nand long"}}

	original := rows
	for _, kind := range []Kind{KindCSV, KindXLSX} {
		header := r.Header()
		for round := 1; round <= 2; round++ {
			path := filepath.Join(t.TempDir(), "report."+string(kind))
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w, err := NewReportWriter(f, kind, header)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				if err := w.WriteRow(ReportRow{Cells: row.Cells, Status: "failed", Errors: issue}); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}

			back, err := OpenFile(path, kind, ReadOptions{})
			if err != nil {
				t.Fatalf("%s round %d: %v", kind, round, err)
			}
			wantHeader := append(append([]string{}, r.Header()...), ReportColumns...)
			if diff := cmp.Diff(wantHeader, back.Header()); diff != "" {
				t.Errorf("%s round %d: header (-want +got):\n%s", kind, round, diff)
			}
			m2, err := NewMapping(back.Header(), mapping, testCustomFields)
			if err != nil {
				t.Fatalf("%s round %d: %v", kind, round, err)
			}
			if diff := cmp.Diff(m.Unmapped(), m2.Unmapped()); diff != "" {
				t.Errorf("%s round %d: unmapped (-want +got):\n%s", kind, round, diff)
			}
			backRows, err := readAll(t, back)
			back.Close()
			if err != nil || len(backRows) != len(rows) {
				t.Fatalf("%s round %d: %d rows, %v", kind, round, len(backRows), err)
			}
			for i, row := range backRows {
				if got := string(m2.Record(row.Cells)); got != records[i] {
					t.Errorf("%s round %d, row %d:\n got %s\nwant %s", kind, round, row.Number, got, records[i])
				}
				if row.Number != i+2 {
					t.Errorf("%s round %d: row number %d, want %d", kind, round, row.Number, i+2)
				}
				status := row.Cells[len(r.Header())]
				msg := row.Cells[len(row.Cells)-1]
				if status != "failed" || msg != issue[0].Message {
					t.Errorf("%s round %d: status %q message %q", kind, round, status, msg)
				}
			}
			// The next round reports on this report's rows.
			header = back.Header()
			rows = backRows
		}
		rows = original
	}
	var c schema.Customer
	if err := json.Unmarshal([]byte(records[0]), &c); err != nil || c.Name != "Ada Lovelace" || c.WhatsApp != "152 6666 7780" {
		t.Errorf("record %s: %+v %v", records[0], c, err)
	}
}

func TestXLSXReportRowLimit(t *testing.T) {
	t.Parallel()
	w, err := NewReportWriter(&bytes.Buffer{}, KindXLSX, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	x := w.(*xlsxReport)
	x.row = xlsxMaxRows - 1
	if err := w.WriteRow(ReportRow{Cells: []string{"last"}}); err != nil {
		t.Fatalf("the last row a sheet holds: %v", err)
	}
	if err := w.WriteRow(ReportRow{Cells: []string{"beyond"}}); err == nil {
		t.Error("a row beyond the sheet's last: no error")
	}
	_ = w.Close()
}
