package jobs_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"crmgate/fieldconfig"
	"crmgate/jobs"
	"crmgate/schema"
)

func Example() {
	upload := "\xEF\xBB\xBFName;Phone;Tags;Faction;Notes\n" +
		"Ada;152 6666 7780;vip, imported;red;called twice\n" +
		"\n" +
		"Bob;\"+44 20 \"7946;;blue;\n" +
		"Cy;0152-6666-7780;;;\n"
	r, err := jobs.NewCSVReader(strings.NewReader(upload), jobs.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	custom := []fieldconfig.CustomField{{Name: "Faction", Type: fieldconfig.TypeSingleSelect, Options: []string{"red", "blue"}}}
	m, err := jobs.NewMapping(r.Header(), map[string]string{"Phone": "whatsapp"}, custom)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("unmapped:", m.Unmapped())
	var out strings.Builder
	report, _ := jobs.NewReportWriter(&out, jobs.KindCSV, r.Header())
	seen := jobs.NewDedupe(0)
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if row.Issue != nil {
			_ = report.WriteRow(jobs.ReportRow{Cells: row.Cells, Status: "failed", Errors: []schema.Issue{*row.Issue}})
			continue
		}
		number, _, _ := schema.NormalizePhoneIn(m.Value(row.Cells, schema.FieldWhatsApp), "CN")
		if first, dup := seen.See(number, row.Number); dup {
			_ = report.WriteRow(jobs.ReportRow{Cells: row.Cells, Status: "failed", Errors: []schema.Issue{
				schema.Issuef(jobs.CodeDuplicateInJob, schema.FieldWhatsApp, "row %d has the same number", first)}})
			continue
		}
		fmt.Printf("row %d: %s\n", row.Number, m.Record(row.Cells))
	}
	_ = report.Close()
	fmt.Print(strings.TrimPrefix(out.String(), "\uFEFF")) // the report starts with a byte-order mark
	fmt.Println("skipped:", r.Skipped())
	// Output:
	// unmapped: [Notes]
	// row 2: {"custom_fields":{"Faction":"red"},"name":"Ada","tags":["vip","imported"],"whatsapp":"152 6666 7780"}
	// Name,Phone,Tags,Faction,Notes,crmgate_status,crmgate_code,crmgate_field,crmgate_message
	// Bob,"+44 20 ""7946;;blue;",,,,failed,invalid_row,,"broken quoting on line 4, column 13: extraneous or missing "" in quoted-field"
	// Cy,0152-6666-7780,,,,failed,duplicate_in_job,whatsapp,row 2 has the same number
	// skipped: 1
}
