package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"crmgate/app"
	"crmgate/auth"
	"crmgate/events"
	"crmgate/internal/apptest"
	"crmgate/internal/testutil"
	"crmgate/jobs"
)

// importsGateway serves new simulators (startPeers) and a gateway of both
// their connections with import jobs running, top added to its
// configuration document's top level, and returns them with a token of the
// app billing-app (writer). A subtest named redis keeps the jobs in the
// shared Redis.
func importsGateway(t *testing.T, top string) (*peers, *apptest.Gateway, string) {
	t.Helper()
	p := startPeers(t)
	s := gwSetup{
		doc: acmeDoc{
			top:   "events: {allow_loopback: true}\n" + top,
			nxURL: p.nxURL, nx: []string{"retries: 0", "concurrency: 2", "field_config: {required: [name]}"},
			wsURL: p.wsURL, ws: []string{`field_config: {required: [whatsapp, owner], stages: [{label: "New customer", id: 10}]}`},
		}.String(),
		options: app.Options{DeliverySchedule: []time.Duration{50 * time.Millisecond}, DeliveryPoll: 50 * time.Millisecond},
		run:     true,
	}
	if strings.HasSuffix(t.Name(), "/redis") || strings.Contains(t.Name(), "/redis/") {
		s.redis, s.options.RedisPrefix = sharedRedis(t)
	}
	return p, startGW(t, s), writer(t)
}

// onBothEngines runs an import job test on the in-process engine and on the
// Redis one (REDIS_URL; failed under CI=true without it, skipped elsewhere).
func onBothEngines(t *testing.T, test func(t *testing.T)) {
	t.Run("memory", test)
	t.Run("redis", test)
}

func writer(t *testing.T) string {
	return tokenAs(t, "billing-app", []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead})
}

// upload POSTs a multipart job: the options part and the file part.
func upload(t *testing.T, gw, tok string, opts map[string]any, name string, file []byte, header ...string) apptest.Reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ob, _ := json.Marshal(opts)
	ow, _ := mw.CreateFormField("options")
	_, _ = ow.Write(ob)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(file)
	_ = mw.Close()
	return postForm(t, gw, tok, body.Bytes(), mw.FormDataContentType(), header...)
}

// postForm POSTs a multipart body to /v1/imports, with header's name,
// value pairs.
func postForm(t *testing.T, gw, tok string, body []byte, contentType string, header ...string) apptest.Reply {
	t.Helper()
	return apptest.Do(t, http.MethodPost, gw+"/v1/imports", tok, body, append([]string{"Content-Type", contentType}, header...)...)
}

func accepted(t *testing.T, r apptest.Reply) jobs.Job {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("POST /v1/imports: %d %s", r.Status, r.Body)
	}
	var j jobs.Job
	if err := json.Unmarshal(r.Body, &j); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(j.ID, "imp_") || r.Header.Get("Location") != "/v1/imports/"+j.ID {
		t.Fatalf("job %q at Location %q", j.ID, r.Header.Get("Location"))
	}
	return j
}

func getJob(t *testing.T, gw, tok, id string) jobs.Job {
	t.Helper()
	r := apptest.Do(t, http.MethodGet, gw+"/v1/imports/"+id, tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET job: %d %s", r.Status, r.Body)
	}
	var j jobs.Job
	if err := json.Unmarshal(r.Body, &j); err != nil {
		t.Fatal(err)
	}
	checkJobCounts(t, j)
	return j
}

// checkJobCounts holds the job's invariant.
func checkJobCounts(t *testing.T, j jobs.Job) {
	t.Helper()
	sum := j.Pending + j.Succeeded + j.Failed + j.Unknown
	if j.DryRun {
		if j.Valid == nil || j.Succeeded != 0 || j.Unknown != 0 {
			t.Fatalf("dry run counters %+v", j)
		}
		sum = j.Pending + *j.Valid + j.Failed
	}
	if sum != j.Total {
		t.Fatalf("pending %d + succeeded %d + failed %d + unknown %d (valid %v) != total %d", j.Pending, j.Succeeded, j.Failed, j.Unknown, j.Valid, j.Total)
	}
}

func waitJob(t *testing.T, gw, tok, id string) jobs.Job {
	t.Helper()
	var j jobs.Job
	testutil.Eventually(t, 60*time.Second, "job "+id+" to end", func() bool {
		j = getJob(t, gw, tok, id)
		return j.Status.Ended()
	})
	return j
}

// allResults reads every page of a job's results.
func allResults(t *testing.T, gw, tok, id, query string) []jobs.Result {
	t.Helper()
	var out []jobs.Result
	cursor := ""
	for range 1000 {
		u := gw + "/v1/imports/" + id + "/results?limit=100" + query
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		r := apptest.Do(t, http.MethodGet, u, tok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("results: %d %s", r.Status, r.Body)
		}
		var page struct {
			Results    []jobs.Result `json:"results"`
			NextCursor string        `json:"next_cursor"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Results) > 100 {
			t.Fatalf("a page of %d results over limit 100", len(page.Results))
		}
		out = append(out, page.Results...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
	t.Fatal("results never end")
	return nil
}

func customers(n int, phone func(i int) string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"ref": fmt.Sprintf("crm-%d", i), "name": fmt.Sprintf("Customer %d", i), "whatsapp": phone(i)}
	}
	return out
}

// A JSON job of 250 records into NXLink: chunks of 100, one result per row
// in row order over paged results, the invalid phone and the duplicate
// failed on their own and never sent, the rest stored; counters add up.
func TestImportJobJSON(t *testing.T) { onBothEngines(t, testImportJobJSON) }

func testImportJobJSON(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "")
	recs := customers(250, func(i int) string { return fmt.Sprintf("+86 152 %04d %04d", i/10000, 7000+i) })
	recs[10]["whatsapp"] = "not a phone"
	recs[20]["whatsapp"] = recs[5]["whatsapp"]
	job := accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "acme-cdp", "customers": recs}))
	if job.Total != 250 || job.Source.Kind != jobs.KindJSON || job.CreatedBy != "billing-app" || !job.Dedupe {
		t.Fatalf("accepted job %+v", job)
	}
	done := waitJob(t, gw.URL, tok, job.ID)
	if done.Status != jobs.StatusCompleted || done.Pending != 0 || done.Succeeded != 248 || done.Failed != 2 || done.FinishedAt == nil {
		t.Fatalf("job ended %+v", done)
	}
	if done.ErrorsByCode["invalid_phone"] != 1 || done.ErrorsByCode["duplicate_in_job"] != 1 {
		t.Fatalf("errors_by_code %v", done.ErrorsByCode)
	}
	rs := allResults(t, gw.URL, tok, job.ID, "")
	if len(rs) != 250 {
		t.Fatalf("%d results", len(rs))
	}
	for i, r := range rs {
		if r.Index != i || r.Ref != fmt.Sprintf("crm-%d", i) || r.Attempts != 1 {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if rs[20].Status != "failed" || rs[20].Errors[0].Code != "duplicate_in_job" || !strings.Contains(rs[20].Errors[0].Message, "record 5") {
		t.Fatalf("duplicate: %+v", rs[20])
	}
	if rs[10].Errors[0].Code != "invalid_phone" {
		t.Fatalf("invalid phone: %+v", rs[10])
	}
	if got := len(p.nx.Customers()); got != 248 {
		t.Fatalf("simulator holds %d customers, want 248", got)
	}
	if calls := len(p.nx.Calls()); calls != 3 {
		t.Fatalf("%d calls, want 3 chunks", calls)
	}
	failed := allResults(t, gw.URL, tok, job.ID, "&status=failed")
	if len(failed) != 2 || failed[0].Index != 10 || failed[1].Index != 20 {
		t.Fatalf("failed results %+v", failed)
	}
}

// A CSV upload with a mapping, national numbers read in default_region CN,
// a column left unmapped, an empty row skipped and a row that cannot be read
// failing on its own.
func TestImportJobCSVMappingRegion(t *testing.T) { onBothEngines(t, testImportJobCSVMappingRegion) }

func testImportJobCSVMappingRegion(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "")
	csv := "\xEF\xBB\xBFFull Name;Mobile;Notes\n" +
		"Ada;152 6666 7780;first\n" +
		"\n" +
		"Bob;\"152 6666 7781;broken\n"
	csv = "\xEF\xBB\xBFFull Name;Mobile;Notes\nAda;152 6666 7780;first\n\nBob;152 6666 7781;;extra\nCy;+44 20 7946 0958;\n"
	job := accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp", "default_region": "CN",
		"mapping": map[string]string{"Full Name": "name", "Mobile": "whatsapp"}}, "contacts.csv", []byte(csv)))
	if job.Source != (jobs.Source{Kind: jobs.KindCSV, Name: "contacts.csv", Rows: 3}) || job.SkippedRows != 1 ||
		len(job.UnmappedColumns) != 1 || job.UnmappedColumns[0] != "Notes" || job.DefaultRegion != "CN" {
		t.Fatalf("accepted %+v", job)
	}
	done := waitJob(t, gw.URL, tok, job.ID)
	if done.Succeeded != 2 || done.Failed != 1 || done.ErrorsByCode["invalid_row"] != 1 {
		t.Fatalf("ended %+v", done)
	}
	rs := allResults(t, gw.URL, tok, job.ID, "")
	if rs[0].Row != 2 || rs[1].Row != 4 || rs[1].Errors[0].Code != "invalid_row" || rs[2].Row != 5 {
		t.Fatalf("results %+v", rs)
	}
	keys := map[string]bool{}
	for _, c := range p.nx.Customers() {
		keys[c.Key] = true
	}
	if !keys["whats_app_phone:8615266667780"] || !keys["whats_app_phone:442079460958"] {
		t.Fatalf("stored %v", keys)
	}

	// A mapping that cannot work, an unknown region and a bad file are
	// refused before anything runs.
	pr := expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp",
		"mapping": map[string]string{"Nope": "whatsapp", "Mobile": "no_such_field"}}, "c.csv", []byte(csv)), http.StatusUnprocessableEntity)
	if len(pr.Errors) < 2 {
		t.Fatalf("mapping problems %+v", pr)
	}
	expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp", "default_region": "XX"}, "c.csv", []byte(csv)), http.StatusUnprocessableEntity)
	expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "c.csv", []byte("a;a\n1;2\n")), http.StatusUnprocessableEntity)
	expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "c.csv", []byte("name\n\xff\xfe\n")), http.StatusUnsupportedMediaType)
}

// A CSV file part that comes before its options part (it cannot be read as
// it arrives: it is spooled, then read) makes the same job as one after
// them; an XLSX one too.
func TestImportJobFileBeforeOptions(t *testing.T) { onBothEngines(t, testImportJobFileBeforeOptions) }

func testImportJobFileBeforeOptions(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	fileFirst := func(name string, file []byte) apptest.Reply {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(file)
		ow, _ := mw.CreateFormField("options")
		_, _ = ow.Write([]byte(`{"connection":"acme-cdp","default_region":"CN","mapping":{"Mobile":"whatsapp"}}`))
		_ = mw.Close()
		return postForm(t, gw.URL, tok, body.Bytes(), mw.FormDataContentType())
	}
	csv := "name,Mobile,Notes\nAda,152 6666 7790,x\n\nBob,152 6666 7790,y\nCy,12,z\n"
	job := waitJob(t, gw.URL, tok, accepted(t, fileFirst("late.csv", []byte(csv))).ID)
	if job.Source != (jobs.Source{Kind: jobs.KindCSV, Name: "late.csv", Rows: 3}) || job.SkippedRows != 1 || job.Succeeded != 1 ||
		job.ErrorsByCode["duplicate_in_job"] != 1 || job.ErrorsByCode["invalid_phone"] != 1 || len(job.UnmappedColumns) != 1 {
		t.Fatalf("ended %+v", job)
	}
	rs := allResults(t, gw.URL, tok, job.ID, "")
	if len(rs) != 3 || rs[0].Row != 2 || rs[1].Row != 4 || rs[2].Row != 5 || !strings.Contains(rs[1].Errors[0].Message, "row 2") {
		t.Fatalf("results %+v", rs)
	}
	x := waitJob(t, gw.URL, tok, accepted(t, fileFirst("late.xlsx", xlsxFile(t, [][]string{{"Name", "Mobile"}, {"Di", "152 6666 7791"}}))).ID)
	if x.Source.Kind != jobs.KindXLSX || x.Succeeded != 1 {
		t.Fatalf("xlsx ended %+v", x)
	}
}

// A job for a connection that does not exist is one 404 problem, JSON or
// multipart, not that problem followed by another.
func TestImportJobUnknownConnection(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	for _, r := range []apptest.Reply{
		upload(t, gw.URL, tok, map[string]any{"connection": "nope"}, "a.csv", []byte("name\nx\n")),
		apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "nope", "customers": []map[string]any{{"name": "x"}}}),
	} {
		expectProblem(t, r, http.StatusNotFound)
		if !json.Valid(r.Body) {
			t.Errorf("the answer is not one JSON value: %s", r.Body)
		}
	}
}

// default_region applies to POST /v1/customers too: the request's, else
// the connection's.
func TestDefaultRegionOnCustomers(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "")
	code, ans := post(t, gw.URL+"/v1/customers", tok, map[string]any{"connection": "acme-cdp", "default_region": "CN",
		"customers": []map[string]any{{"name": "Li", "whatsapp": "152 6666 7790"}}})
	if code != 200 || ans.Succeeded != 1 {
		t.Fatalf("%d %+v", code, ans)
	}
	found := false
	for _, c := range p.nx.Customers() {
		found = found || c.Key == "whats_app_phone:8615266667790"
	}
	if !found {
		t.Fatal("the national number was not read in CN")
	}
	r := apptest.Do(t, http.MethodPost, gw.URL+"/v1/customers", tok, map[string]any{"connection": "acme-cdp", "default_region": "QQ",
		"customers": []map[string]any{{"name": "Li", "whatsapp": "152 6666 7790"}}})
	expectProblem(t, r, http.StatusUnprocessableEntity)
}

func xlsxFile(t *testing.T, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		cells := make([]any, len(row))
		for k, v := range row {
			cells[k] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An XLSX job's report is an XLSX of the rows that did not succeed; fixed in
// place and uploaded again as it is, it succeeds.
func TestImportJobXLSXReportFixedAndReuploaded(t *testing.T) {
	onBothEngines(t, testImportJobXLSXReportFixedAndReuploaded)
}

func testImportJobXLSXReportFixedAndReuploaded(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	file := xlsxFile(t, [][]string{{"Name", "WhatsApp"}, {"Ada", "+86 152 6666 7780"}, {"Bob", "12"}, {"", "+86 152 6666 7782"}})
	job := accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "people.xlsx", file))
	done := waitJob(t, gw.URL, tok, job.ID)
	if done.Succeeded != 1 || done.Failed != 2 {
		t.Fatalf("ended %+v", done)
	}
	r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID+"/report", tok, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != jobs.XLSXContentType || !strings.Contains(r.Header.Get("Content-Disposition"), "people.report.xlsx") {
		t.Fatalf("report %d %v", r.Status, r.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][2] != "crmgate_status" || rows[1][0] != "Bob" || rows[1][3] != "invalid_phone" || rows[2][3] != "required" {
		t.Fatalf("report rows %q", rows)
	}
	// Fix both rows in the report and upload it again.
	sheet := f.GetSheetName(0)
	_ = f.SetCellValue(sheet, "B2", "+86 152 6666 7781")
	_ = f.SetCellValue(sheet, "A3", "Cy")
	var fixed bytes.Buffer
	if err := f.Write(&fixed); err != nil {
		t.Fatal(err)
	}
	again := accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "people.report.xlsx", fixed.Bytes()))
	if len(again.UnmappedColumns) != 0 {
		t.Fatalf("the crmgate_* columns were not ignored: %v", again.UnmappedColumns)
	}
	redone := waitJob(t, gw.URL, tok, again.ID)
	if redone.Succeeded != 2 || redone.Failed != 0 {
		t.Fatalf("re-upload ended %+v", redone)
	}
	// A CSV report on request, and an empty one for a job that fully succeeded.
	r = apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID+"/report?format=csv", tok, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || strings.Count(string(r.Body), "\n") != 3 {
		t.Fatalf("csv report %d %q", r.Status, r.Body)
	}
}

// A dry run checks every row and sends nothing.
func TestImportJobDryRunSendsNothing(t *testing.T) { onBothEngines(t, testImportJobDryRunSendsNothing) }

func testImportJobDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "")
	recs := customers(150, func(i int) string { return fmt.Sprintf("+86 152 6666 %04d", i) })
	recs[3]["whatsapp"] = "x"
	job := accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "acme-cdp", "dry_run": true, "customers": recs}))
	done := waitJob(t, gw.URL, tok, job.ID)
	if !done.DryRun || done.Valid == nil || *done.Valid != 149 || done.Failed != 1 || done.Status != jobs.StatusCompleted {
		t.Fatalf("dry run ended %+v", done)
	}
	if n := len(p.nx.Calls()); n != 0 {
		t.Fatalf("a dry run sent %d calls", n)
	}
	r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID+"/report?format=csv", tok, nil)
	if strings.Count(string(r.Body), "\n") != 2 {
		t.Fatalf("dry-run report %q", r.Body)
	}
}

// dedupe: false sends a repeated number; by default it fails duplicate_in_job.
func TestImportJobDedupeOff(t *testing.T) { onBothEngines(t, testImportJobDedupeOff) }

func testImportJobDedupeOff(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	csv := "name,whatsapp\nA,+86 152 6666 7780\nB,0086 152-6666-7780\n"
	on := waitJob(t, gw.URL, tok, accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", []byte(csv))).ID)
	off := waitJob(t, gw.URL, tok, accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp", "dedupe": false}, "a.csv", []byte(csv))).ID)
	if on.ErrorsByCode["duplicate_in_job"] != 1 || on.Succeeded != 1 || off.Succeeded != 2 || off.Dedupe {
		t.Fatalf("dedupe on %+v, off %+v", on, off)
	}
	rs := allResults(t, gw.URL, tok, on.ID, "&status=failed")
	if len(rs) != 1 || rs[0].Row != 3 || !strings.Contains(rs[0].Errors[0].Message, "row 2") {
		t.Fatalf("duplicate %+v", rs)
	}
}

// Cancel stops sending: rows not yet sent end failed/canceled, the job is
// canceled, counters add up, and nothing more reaches the provider.
func TestImportJobCancel(t *testing.T) { onBothEngines(t, testImportJobCancel) }

func testImportJobCancel(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "jobs: {workers: 1}")
	p.nx.SetDelay(200 * time.Millisecond)
	recs := customers(3000, func(i int) string { return fmt.Sprintf("+86 152 %04d %04d", i/1000, i) })
	job := accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "acme-cdp", "customers": recs}))
	testutil.Eventually(t, 30*time.Second, "the first call", func() bool { return len(p.nx.Calls()) > 0 })
	r := apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports/"+job.ID+"/cancel", tok, nil)
	if r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	done := waitJob(t, gw.URL, tok, job.ID)
	if done.Status != jobs.StatusCanceled || done.ErrorsByCode["canceled"] < 2000 || done.Pending != 0 {
		t.Fatalf("canceled %+v", done)
	}
	sent := len(p.nx.Calls())
	if sent > 5 {
		t.Fatalf("%d calls after cancel", sent)
	}
	if done.Succeeded != sent*100 {
		t.Fatalf("succeeded %d for %d calls", done.Succeeded, sent)
	}
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports/"+job.ID+"/cancel", tok, nil), http.StatusConflict)
}

// Rows left unknown (the provider unavailable) are sent again by …/retry as
// a new job, and succeed once the provider answers.
func TestImportJobRetryUnknown(t *testing.T) { onBothEngines(t, testImportJobRetryUnknown) }

func testImportJobRetryUnknown(t *testing.T) {
	t.Parallel()
	p, gw, tok := importsGateway(t, "jobs: {workers: 1}")
	p.nx.FailNext(1)
	recs := customers(300, func(i int) string { return fmt.Sprintf("+86 152 6666 %04d", i) })
	job := waitJob(t, gw.URL, tok, accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "acme-cdp", "customers": recs})).ID)
	if job.Succeeded != 200 || job.Unknown+job.Failed != 100 {
		t.Fatalf("first job %+v", job)
	}
	r := apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports/"+job.ID+"/retry", tok, nil)
	retry := accepted(t, r)
	if retry.Total != 100 || retry.RetryOf != job.ID {
		t.Fatalf("retry job %+v", retry)
	}
	done := waitJob(t, gw.URL, tok, retry.ID)
	if done.Succeeded != 100 {
		t.Fatalf("retry ended %+v", done)
	}
	if got := len(p.nx.Customers()); got != 300 {
		t.Fatalf("simulator holds %d", got)
	}
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports/"+retry.ID+"/retry", tok, nil), http.StatusUnprocessableEntity)
}

// Scopes as §7's table; another app's jobs are not seen (404) except by an
// admin; a token without the job's connection gets 403.
func TestImportJobScopesAndIsolation(t *testing.T) { onBothEngines(t, testImportJobScopesAndIsolation) }

func testImportJobScopesAndIsolation(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	body := map[string]any{"connection": "acme-cdp", "customers": customers(2, func(i int) string { return fmt.Sprintf("+86 152 6666 77%02d", i) })}
	reader := tokenAs(t, "billing-app", []string{auth.ScopeCustomersRead})
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", reader, body), http.StatusForbidden)
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tokenAs(t, "x", []string{auth.ScopeCustomersWrite}, "acme-wa"), body), http.StatusForbidden)
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "nope", "customers": body["customers"]}), http.StatusNotFound)
	job := waitJob(t, gw.URL, tok, accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, body)).ID)

	other := tokenAs(t, "other-app", []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead})
	expectProblem(t, apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID, other, nil), http.StatusNotFound)
	expectProblem(t, apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID+"/results", other, nil), http.StatusNotFound)
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports/"+job.ID+"/cancel", other, nil), http.StatusNotFound)
	expectProblem(t, apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports/"+job.ID, tokenAs(t, "billing-app", []string{auth.ScopeCustomersRead}, "acme-wa"), nil), http.StatusForbidden)
	getJob(t, gw.URL, reader, job.ID)

	list := func(tok, q string) []string {
		r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports"+q, tok, nil)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var page struct {
			Jobs []jobs.Job `json:"jobs"`
		}
		_ = json.Unmarshal(r.Body, &page)
		var ids []string
		for _, j := range page.Jobs {
			ids = append(ids, j.ID)
		}
		return ids
	}
	mine := waitJob(t, gw.URL, other, accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", other, body)).ID)
	if got := list(other, ""); len(got) != 1 || got[0] != mine.ID {
		t.Fatalf("other-app lists %v", got)
	}
	if got := list(adminBearer(t), "?connection=acme-cdp"); len(got) != 2 || got[0] != mine.ID || got[1] != job.ID {
		t.Fatalf("admin lists %v (newest first: %s, %s)", got, mine.ID, job.ID)
	}
	if got := list(adminBearer(t), "?limit=1"); len(got) != 1 {
		t.Fatalf("limit 1 lists %v", got)
	}
	if got := list(tokenAs(t, "admin", auth.Scopes, "acme-wa"), ""); len(got) != 0 {
		t.Fatalf("an admin of acme-wa lists %v", got)
	}
	expectProblem(t, apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports?connection=acme-cdp", tokenAs(t, "billing-app", []string{auth.ScopeCustomersRead}, "acme-wa"), nil), http.StatusForbidden)
}

// The same Idempotency-Key and upload answer the same job; another upload
// with it is a 422.
func TestImportJobIdempotencyKey(t *testing.T) { onBothEngines(t, testImportJobIdempotencyKey) }

func testImportJobIdempotencyKey(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	csv := []byte("name,whatsapp\nA,+86 152 6666 7780\n")
	first := accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", csv, "Idempotency-Key", "k1"))
	again := upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", csv, "Idempotency-Key", "k1")
	if j := accepted(t, again); j.ID != first.ID || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay gave %s, first %s", j.ID, first.ID)
	}
	expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", append(csv, "B,+86 152 6666 7781\n"...), "Idempotency-Key", "k1"), http.StatusUnprocessableEntity)
	r := apptest.Do(t, http.MethodGet, gw.URL+"/v1/imports?limit=10", tok, nil)
	if strings.Count(string(r.Body), `"id":"imp_`) != 1 {
		t.Fatalf("more than one job: %s", r.Body)
	}
}

// import.completed reaches a subscription, with the job.
func TestImportJobCompletedEvent(t *testing.T) { onBothEngines(t, testImportJobCompletedEvent) }

func testImportJobCompletedEvent(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "")
	sub := newSubscriber(t, nil)
	subscribe(t, gw.URL, sub, []string{events.TypeImportCompleted}, []string{"acme-cdp"})
	job := accepted(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/imports", tok, map[string]any{"connection": "acme-cdp",
		"customers": customers(3, func(i int) string { return fmt.Sprintf("+86 152 6666 77%02d", i) })}))
	d := sub.next(t)
	var ev struct {
		Type       string   `json:"type"`
		Connection string   `json:"connection"`
		Job        jobs.Job `json:"job"`
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != events.TypeImportCompleted || ev.Connection != "acme-cdp" || ev.Job.ID != job.ID || ev.Job.Succeeded != 3 || ev.Job.Status != jobs.StatusCompleted {
		t.Fatalf("event %s", d.Body)
	}
	if bytes.Contains(d.Body, []byte(`"customer"`)) {
		t.Fatalf("an import event carries a customer: %s", d.Body)
	}
}

// limits.max_body_bytes does not bound /v1/imports; max_upload_bytes and
// max_job_rows do, with a 413.
func TestImportJobLimits(t *testing.T) { onBothEngines(t, testImportJobLimits) }

func testImportJobLimits(t *testing.T) {
	t.Parallel()
	_, gw, tok := importsGateway(t, "limits: {max_body_bytes: 1024, max_upload_bytes: 8192, max_job_rows: 50}")
	var csv strings.Builder
	csv.WriteString("name,whatsapp,remarks\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "C %d,+86 152 6666 %04d,%s\n", i, i, strings.Repeat("x", 60))
	}
	if csv.Len() <= 1024 || csv.Len() >= 8000 {
		t.Fatalf("test file of %d bytes", csv.Len())
	}
	job := waitJob(t, gw.URL, tok, accepted(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", []byte(csv.String()))).ID)
	if job.Succeeded != 40 {
		t.Fatalf("ended %+v", job)
	}
	for range 20 {
		csv.WriteString("D,+86 152 6666 9999,\n")
	}
	pr := expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", []byte(csv.String())), http.StatusRequestEntityTooLarge)
	if !strings.Contains(pr.Detail, "row 52") {
		t.Fatalf("too many rows: %+v", pr)
	}
	big := strings.Repeat("y", 9000)
	expectProblem(t, upload(t, gw.URL, tok, map[string]any{"connection": "acme-cdp"}, "a.csv", []byte("name\n"+big+"\n")), http.StatusRequestEntityTooLarge)
	// POST /v1/customers keeps its own limit.
	expectProblem(t, apptest.Do(t, http.MethodPost, gw.URL+"/v1/customers", tok, map[string]any{"connection": "acme-cdp",
		"customers": []map[string]any{{"name": big, "whatsapp": "+86 152 6666 0001"}}}), http.StatusRequestEntityTooLarge)
}
