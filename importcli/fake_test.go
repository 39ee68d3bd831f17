package importcli_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/importcli"
	"crmgate/jobs"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/schema"
)

// fakeAPI is the import-job API of gateway.md §7 as far as the command
// line uses it, built from the contract: POST /v1/imports (multipart:
// "options" and "file"), GET /v1/imports/{id}, GET …/report, POST
// …/cancel. It reads the upload with the jobs package, maps its columns
// for the NXLink sandbox field configuration, and decides each row: a row
// without a name fails "required", one whose WhatsApp cell holds anything
// but digits, spaces, "+" or "-" fails "invalid_phone", the rest succeed
// (or are valid in a dry run). Each read of a job finishes half of the
// rows still pending, unless hold is set: then jobs stay running. An
// Idempotency-Key works as §7 says: the same key and upload answer the job
// the first one made (Idempotent-Replayed: true), another upload with it
// is a 422. lose makes the next uploads create their job and then drop the
// connection instead of answering, as a network that loses the answer.
type fakeAPI struct {
	t     *testing.T
	token string
	srv   *httptest.Server

	hold    atomic.Bool
	lose    atomic.Int64
	gets    atomic.Int64
	cancels atomic.Int64
	posts   atomic.Int64

	mu   sync.Mutex
	seq  int
	jobs map[string]*fakeJob
	keys map[string]keyed // by Idempotency-Key
	last upload
	all  []upload
}

// upload is what a POST /v1/imports carried.
type upload struct {
	key         string // the Idempotency-Key header
	options     json.RawMessage
	fileName    string
	contentType string
	file        []byte
}

// keyed is the job an Idempotency-Key made, and the upload it made it of.
type keyed struct {
	id   string
	body string
}

type fakeRow struct {
	cells  []string
	status string
	issue  *schema.Issue
}

type fakeJob struct {
	job    importcli.Job
	kind   jobs.Kind
	header []string
	rows   []fakeRow
}

func newFakeAPI(t *testing.T, token string) *fakeAPI {
	f := &fakeAPI{t: t, token: token, jobs: map[string]*fakeJob{}, keys: map[string]keyed{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/imports", f.create)
	mux.HandleFunc("GET /v1/imports/{id}", f.get)
	mux.HandleFunc("GET /v1/imports/{id}/report", f.report)
	mux.HandleFunc("POST /v1/imports/{id}/cancel", f.cancel)
	f.srv = httptest.NewServer(f.authorized(mux))
	t.Cleanup(f.srv.Close)
	return f
}

func problem(w http.ResponseWriter, status int, title, detail string, errs ...schema.Issue) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(importcli.Problem{Type: "https://crmgate.dev/problems/x", Title: title, Status: status,
		Detail: detail, RequestID: "req-1", Errors: errs})
}

func (f *fakeAPI) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			problem(w, http.StatusUnauthorized, "Unauthorized", "missing or invalid bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (f *fakeAPI) create(w http.ResponseWriter, r *http.Request) {
	f.posts.Add(1)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		problem(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "not multipart: "+ct)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", err.Error())
		return
	}
	var (
		up   upload
		opts importcli.Options
		sp   *jobs.Spooled
	)
	up.key = r.Header.Get("Idempotency-Key")
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problem(w, http.StatusBadRequest, "Bad Request", err.Error())
			return
		}
		switch part.FormName() {
		case "options":
			raw, _ := io.ReadAll(part)
			up.options = raw
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&opts); err != nil {
				problem(w, http.StatusBadRequest, "Bad Request", "options: "+err.Error())
				return
			}
		case "file":
			up.fileName, up.contentType = part.FileName(), part.Header.Get("Content-Type")
			if sp, err = jobs.Spool(part, f.t.TempDir(), 0); err != nil {
				problem(w, http.StatusBadRequest, "Bad Request", err.Error())
				return
			}
			up.file, _ = os.ReadFile(sp.Path())
		}
	}
	f.mu.Lock()
	f.last = up
	f.all = append(f.all, up)
	body := string(up.options) + "\x00" + up.fileName + "\x00" + string(up.file)
	k, seen := f.keys[up.key]
	var replay importcli.Job
	if seen && k.body == body {
		replay = f.jobs[k.id].job
	}
	f.mu.Unlock()
	switch {
	case seen && k.body != body:
		problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "this Idempotency-Key was used with a different request body")
		return
	case seen:
		w.Header().Set("Location", "/v1/imports/"+replay.ID)
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(replay)
		return
	}
	if sp == nil || opts.Connection == "" {
		problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "a file part and a connection are required")
		return
	}
	kind := jobs.DetectKind(up.fileName, up.contentType, sp.Head())
	rd, err := sp.Open(kind, jobs.ReadOptions{})
	if err != nil {
		problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", err.Error())
		return
	}
	defer rd.Close()
	m, err := jobs.NewMapping(rd.Header(), opts.Mapping, nxlinksim.SampleFieldConfig().CustomFields)
	var merr *jobs.MappingError
	if errors.As(err, &merr) {
		var issues []schema.Issue
		for _, p := range merr.Problems {
			issues = append(issues, schema.Issue{Code: "invalid_mapping", Field: "mapping", Message: p})
		}
		problem(w, http.StatusUnprocessableEntity, "The column mapping cannot work", "fix the mapping and upload again", issues...)
		return
	}
	fj := &fakeJob{kind: kind, header: rd.Header()}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", err.Error())
			return
		}
		fr := fakeRow{cells: row.Cells, status: "succeeded", issue: row.Issue}
		if opts.DryRun {
			fr.status = "valid"
		}
		phone := m.Value(row.Cells, "whatsapp")
		switch {
		case fr.issue != nil:
		case m.Value(row.Cells, "name") == "":
			fr.issue = &schema.Issue{Code: "required", Field: "name", Message: "name is required"}
		case phone == "" || strings.Trim(phone, "0123456789 +-") != "":
			fr.issue = &schema.Issue{Code: "invalid_phone", Field: "whatsapp", Message: fmt.Sprintf("%q is not a phone number", phone)}
		}
		if fr.issue != nil {
			fr.status = "failed"
		}
		fj.rows = append(fj.rows, fr)
	}
	f.mu.Lock()
	f.seq++
	now := time.Now().UTC()
	fj.job = importcli.Job{ID: fmt.Sprintf("imp_%d", f.seq), Status: importcli.StatusQueued, Connection: opts.Connection,
		DryRun: opts.DryRun, CreatedAt: &now, Source: &importcli.Source{Kind: string(kind), Name: up.fileName, Rows: len(fj.rows)},
		Total: len(fj.rows), Pending: len(fj.rows), ErrorsByCode: map[string]int{}, UnmappedColumns: m.Unmapped(),
		SkippedRows: rd.Skipped()}
	f.jobs[fj.job.ID] = fj
	if up.key != "" {
		f.keys[up.key] = keyed{id: fj.job.ID, body: body}
	}
	job := fj.job
	f.mu.Unlock()
	if f.lose.Load() > 0 {
		f.lose.Add(-1)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // the job is made; its answer is lost
			return
		}
	}
	w.Header().Set("Location", "/v1/imports/"+job.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(job)
}

func (f *fakeAPI) find(w http.ResponseWriter, r *http.Request) *fakeJob {
	fj := f.jobs[r.PathValue("id")]
	if fj == nil {
		problem(w, http.StatusNotFound, "Not Found", "no job "+r.PathValue("id"))
	}
	return fj
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	f.gets.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	fj := f.find(w, r)
	if fj == nil {
		return
	}
	j := &fj.job
	now := time.Now().UTC()
	if j.Status == importcli.StatusQueued {
		j.Status, j.StartedAt = importcli.StatusRunning, &now
	}
	if j.Status == importcli.StatusRunning && !f.hold.Load() {
		finished := j.Total - j.Pending
		n := min(max(j.Pending/2, 1), j.Pending)
		for _, row := range fj.rows[finished : finished+n] {
			switch row.status {
			case "succeeded":
				j.Succeeded++
			case "valid":
				j.Valid++
			default:
				j.Failed++
				j.ErrorsByCode[string(row.issue.Code)]++
			}
		}
		j.Pending -= n
		if j.Pending == 0 {
			j.Status, j.FinishedAt = importcli.StatusCompleted, &now
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(j)
}

func (f *fakeAPI) report(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fj := f.find(w, r)
	if fj == nil {
		return
	}
	kind := fj.kind
	if r.URL.Query().Get("format") == "xlsx" {
		kind = jobs.KindXLSX
	}
	ct := "text/csv; charset=utf-8"
	if kind == jobs.KindXLSX {
		ct = jobs.XLSXContentType
	}
	w.Header().Set("Content-Type", ct)
	rw, err := jobs.NewReportWriter(w, kind, fj.header)
	if err != nil {
		f.t.Error(err)
		return
	}
	for _, row := range fj.rows {
		if row.status == "failed" {
			_ = rw.WriteRow(jobs.ReportRow{Cells: row.cells, Status: row.status, Errors: []schema.Issue{*row.issue}})
		}
	}
	if err := rw.Close(); err != nil {
		f.t.Error(err)
	}
}

func (f *fakeAPI) cancel(w http.ResponseWriter, r *http.Request) {
	f.cancels.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if fj := f.find(w, r); fj != nil {
		fj.job.Status = importcli.StatusCanceled
		_ = json.NewEncoder(w).Encode(fj.job)
	}
}

// status is the job's status now, as the fake holds it.
func (f *fakeAPI) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fj := f.jobs[id]; fj != nil {
		return fj.job.Status
	}
	return ""
}

func (f *fakeAPI) lastUpload() upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fakeAPI) uploads() []upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.all)
}

func (f *fakeAPI) jobCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobs)
}
