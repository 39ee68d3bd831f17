package importcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"crmgate/schema"
)

// xlsxContentType is the media type of an XLSX file.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Options are the options of a new job (gateway.md §7 "Creating a job");
// empty fields are left out of the JSON, so the gateway's defaults hold.
type Options struct {
	Connection    string            `json:"connection"`
	Mode          string            `json:"mode,omitempty"`
	DryRun        bool              `json:"dry_run,omitempty"`
	DefaultRegion string            `json:"default_region,omitempty"`
	Mapping       map[string]string `json:"mapping,omitempty"`
	// IdempotencyKey, when not empty, is sent as the Idempotency-Key
	// header (not in the options part): the gateway answers an upload
	// sent again with the same key and the same body with the job the
	// first one created.
	IdempotencyKey string `json:"-"`
}

// Source is where a job's rows came from.
type Source struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Rows int    `json:"rows"`
}

// Job is the job object of gateway.md §7, as far as the command line reads
// it.
type Job struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Connection      string         `json:"connection"`
	DryRun          bool           `json:"dry_run"`
	CreatedAt       *time.Time     `json:"created_at"`
	StartedAt       *time.Time     `json:"started_at"`
	FinishedAt      *time.Time     `json:"finished_at"`
	Source          *Source        `json:"source"`
	Total           int            `json:"total"`
	Pending         int            `json:"pending"`
	Succeeded       int            `json:"succeeded"`
	Valid           int            `json:"valid"`
	Failed          int            `json:"failed"`
	Unknown         int            `json:"unknown"`
	SkippedRows     int            `json:"skipped_rows"`
	ErrorsByCode    map[string]int `json:"errors_by_code"`
	UnmappedColumns []string       `json:"unmapped_columns"`
	Error           string         `json:"error"`
}

// The job statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusCanceled  = "canceled"
	StatusFailed    = "failed"
)

// Done reports whether the job has ended (completed, canceled or failed).
func (j *Job) Done() bool {
	switch j.Status {
	case StatusCompleted, StatusCanceled, StatusFailed:
		return true
	}
	return false
}

// Finished is how many rows have an outcome.
func (j *Job) Finished() int { return max(j.Total-j.Pending, 0) }

// AllGood reports whether the job completed with every row succeeded (or,
// in a dry run, valid).
func (j *Job) AllGood() bool {
	return j.Status == StatusCompleted && j.Pending == 0 && j.Failed == 0 && j.Unknown == 0
}

// Problem is an application/problem+json answer (RFC 9457), or any other
// answer that was not what was asked for (then Title is the HTTP status
// and Detail the start of the body).
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail"`
	RequestID string         `json:"request_id"`
	Errors    []schema.Issue `json:"errors"`
}

// Error is the problem on one line.
func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s", p.Status, p.Title)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Client speaks the import-job API of one gateway. Its zero HTTP field
// means http.DefaultClient; every call takes its deadline from ctx.
type Client struct {
	URL   string // the gateway's base URL, e.g. http://127.0.0.1:8080
	Token string // bearer token; empty: none sent
	HTTP  *http.Client
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) endpoint(path string) string { return strings.TrimRight(c.URL, "/") + path }

func (c *Client) do(req *http.Request) (*http.Response, error) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return c.http().Do(req)
}

// Create uploads a file as a new job: POST /v1/imports, multipart/form-data
// with the part "options" (opts as JSON) and the part "file" (r, under the
// file name name, with the XLSX media type when name ends in .xlsx and
// text/csv otherwise). r is streamed to the gateway as it is read, never
// held whole. lastByte, when not nil, is called once the whole body has
// been handed to the connection. opts.IdempotencyKey goes in the
// Idempotency-Key header. A refusal is a *Problem.
func (c *Client) Create(ctx context.Context, opts Options, name string, r io.Reader, lastByte func()) (*Job, error) {
	optJSON, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := writeMultipart(mw, optJSON, name, r)
		if err == nil && lastByte != nil {
			lastByte()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/v1/imports"), pr)
	if err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	if opts.IdempotencyKey != "" {
		req.Header.Set("Idempotency-Key", opts.IdempotencyKey)
	}
	resp, err := c.do(req)
	// Whatever the answer, stop the writer: a gateway that refused the
	// upload early need not be sent the rest.
	pr.CloseWithError(errors.New("upload ended"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var job Job
	if err := decodeAnswer(resp, http.StatusAccepted, &job); err != nil {
		return nil, err
	}
	if job.ID == "" {
		job.ID = strings.TrimPrefix(resp.Header.Get("Location"), "/v1/imports/")
	}
	if job.ID == "" {
		return nil, fmt.Errorf("POST /v1/imports: the answer names no job")
	}
	return &job, nil
}

// writeMultipart writes the two parts and closes the form.
func writeMultipart(mw *multipart.Writer, optJSON []byte, name string, r io.Reader) error {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="options"`)
	h.Set("Content-Type", "application/json")
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(optJSON); err != nil {
		return err
	}
	ct := "text/csv"
	if strings.EqualFold(filepath.Ext(name), ".xlsx") {
		ct = xlsxContentType
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name}))
	h.Set("Content-Type", ct)
	if w, err = mw.CreatePart(h); err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return mw.Close()
}

// Get reads a job: GET /v1/imports/{id}. A refusal is a *Problem.
func (c *Client) Get(ctx context.Context, id string) (*Job, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/v1/imports/"+url.PathEscape(id)), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var job Job
	if err := decodeAnswer(resp, http.StatusOK, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Report copies a job's error report to w: GET /v1/imports/{id}/report,
// with ?format=xlsx when xlsx is set. A refusal is a *Problem.
func (c *Client) Report(ctx context.Context, id string, xlsx bool, w io.Writer) error {
	u := c.endpoint("/v1/imports/" + url.PathEscape(id) + "/report")
	if xlsx {
		u += "?format=xlsx"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return problemOf(resp)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// decodeAnswer decodes a JSON answer of status want (any 2xx is taken)
// into v, or returns the answer as a *Problem.
func decodeAnswer(resp *http.Response, want int, v any) error {
	if resp.StatusCode != want && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		return problemOf(resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return nil
}

// problemOf reads a refusal: the problem+json when the gateway sent one,
// otherwise the status and the start of the body.
func problemOf(resp *http.Response) *Problem {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	p := &Problem{}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct != "application/problem+json" && ct != "application/json" || json.Unmarshal(raw, p) != nil || p.Title == "" && p.Detail == "" {
		p = &Problem{Detail: strings.TrimSpace(string(raw))}
		if len(p.Detail) > 300 {
			p.Detail = p.Detail[:300] + "…"
		}
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	if p.Title == "" {
		p.Title = http.StatusText(resp.StatusCode)
	}
	return p
}
