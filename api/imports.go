package api

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"

	"crmgate/api/answer"
	"crmgate/auth"
	"crmgate/gateway"
	"crmgate/idempotency"
	"crmgate/internal/strictjson"
	"crmgate/jobs"
	"crmgate/schema"
)

// Upload and job limits (gateway.md §7).
const (
	DefaultMaxUploadBytes = 512 << 20
	DefaultMaxJobRows     = 1 << 20
	maxOptionsBytes       = 1 << 20
)

// ImportOptions are a new import job's options: the JSON body's keys
// besides customers, or the multipart upload's options part.
type ImportOptions struct {
	Connection  string `json:"connection"`
	Mode        string `json:"mode,omitempty"`
	Strict      bool   `json:"strict,omitempty"`
	StrictOwner bool   `json:"strict_owner,omitempty"`
	DryRun      bool   `json:"dry_run,omitempty"`
	// DefaultRegion (ISO 3166-1 alpha-2) reads phones written without a
	// country code; empty means the connection's default_region.
	DefaultRegion string `json:"default_region,omitempty"`
	// Dedupe fails a row repeating an earlier row's WhatsApp number with
	// duplicate_in_job; true unless false is given.
	Dedupe *bool `json:"dedupe,omitempty"`
	// Mapping maps a file's column header to a canonical field
	// ("Phone": "whatsapp", "Faction": "custom_fields.Faction").
	Mapping map[string]string `json:"mapping,omitempty"`
}

// ImportJobRequest is the JSON body of POST /v1/imports. Its records are
// kept raw, as ImportRequest's are.
type ImportJobRequest struct {
	ImportOptions
	// The records, canonical as in POST /v1/customers; up to limits.max_job_rows (1 048 576 by default).
	Customers []json.RawMessage `json:"customers" validate:"required" minItems:"1"`
} //	@name	ImportJobRequest

// ImportJobPage is the answer of GET /v1/imports.
type ImportJobPage struct {
	Jobs       []*jobs.Job `json:"jobs"`
	NextCursor string      `json:"next_cursor,omitempty"`
} //	@name	ImportJobPage

// ImportResultPage is the answer of GET /v1/imports/{id}/results.
type ImportResultPage struct {
	Results    []jobs.Result `json:"results"`
	NextCursor string        `json:"next_cursor,omitempty"`
} //	@name	ImportResultPage

// ImportsOptions configure the import-job routes.
type ImportsOptions struct {
	Engine         *jobs.Engine
	MaxUploadBytes int64
	MaxJobRows     int
	// TempDir is where uploads are spooled (the system's when empty).
	TempDir string
}

type importsHandler struct {
	s *Server
	o ImportsOptions
}

// importsPath is the path whose bodies limits.max_body_bytes does not bound.
const importsPath = "/v1/imports"

func (s *Server) importRoutes(v1 *gin.RouterGroup, o ImportsOptions) {
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.MaxJobRows <= 0 {
		o.MaxJobRows = DefaultMaxJobRows
	}
	h := &importsHandler{s: s, o: o}
	v1.POST("/imports", require(auth.ScopeCustomersWrite), h.create)
	v1.GET("/imports", require(auth.ScopeCustomersRead), h.list)
	v1.GET("/imports/:id", require(auth.ScopeCustomersRead), h.get)
	v1.GET("/imports/:id/results", require(auth.ScopeCustomersRead), h.results)
	v1.GET("/imports/:id/report", require(auth.ScopeCustomersRead), h.report)
	v1.POST("/imports/:id/cancel", require(auth.ScopeCustomersWrite), h.cancel)
	v1.POST("/imports/:id/retry", require(auth.ScopeCustomersWrite), h.retry)
}

// transferBound is how long a body or an answer of n bytes may take on the
// connection: a minute plus a second per MiB (1 MiB/s at worst), or an hour
// when n is not known. It replaces server.read_timeout and write_timeout for
// uploads and reports.
func transferBound(n int64) time.Duration {
	if n < 0 {
		return time.Hour
	}
	return time.Minute + time.Duration(n>>20)*time.Second
}

// tooLarge refuses an upload over limits.max_upload_bytes, declared or
// found while reading: the limit this handler sets on the body.
func (h *importsHandler) tooLarge() *refusal {
	return refuse(kindTooLarge, fmt.Sprintf("the upload is over the limit of %d bytes", h.o.MaxUploadBytes),
		issue(schema.CodeTooLarge, "file", fmt.Sprintf("at most %d bytes (limits.max_upload_bytes)", h.o.MaxUploadBytes)))
}

func (h *importsHandler) create(c *gin.Context) {
	req := c.Request
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(transferBound(req.ContentLength)))
	_ = rc.SetWriteDeadline(time.Now().Add(transferBound(req.ContentLength)))
	if req.ContentLength > h.o.MaxUploadBytes {
		c.Header("Connection", "close")
		fail(c, h.tooLarge())
		return
	}
	req.Body = http.MaxBytesReader(c.Writer, req.Body, h.o.MaxUploadBytes)
	fp := sha256.New()
	fp.Write([]byte(principal(c).Subject + "\x00" + importsPath + "\x00"))
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	var (
		b   *jobs.Builder
		err error
	)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		b, err = h.fromJSON(c, fp)
	case mt == "multipart/form-data":
		b, err = h.fromMultipart(c, fp)
	default:
		err = refuse(kindMediaType, "send the job as application/json (options and customers) or multipart/form-data (options and file)")
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
	case errors.Is(err, errAnswered):
		return
	case errors.As(err, &mbe):
		fail(c, h.tooLarge())
		return
	default:
		fail(c, readFailed("the upload", err))
		return
	}
	h.commit(c, b, hex.EncodeToString(fp.Sum(nil)))
}

// commit answers with the built job, through the Idempotency-Key when one
// is given: the same key and body answer the first job.
func (h *importsHandler) commit(c *gin.Context, b *jobs.Builder, fp string) {
	key := c.GetHeader(headerIdempotencyKey)
	store := h.s.opts.Idempotency
	if key == "" || store == nil {
		job, err := b.Commit(c.Request.Context(), b.Skipped)
		h.answerJob(c, job, err)
		return
	}
	if len(key) > maxIdempotencyKey {
		b.Abort()
		fail(c, errKeyTooLong)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), 10*time.Second)
	defer cancel()
	scoped := principal(c).Subject + "\x00" + importsPath + "\x00" + key
	ans, claim, err := store.Begin(ctx, scoped, fp)
	switch {
	case err != nil:
		// idempotency.ErrInFlight and ErrMismatch among them.
		b.Abort()
		fail(c, storeFailed("the Idempotency-Key could not be checked; no job was created, retry later", err))
		return
	case ans != nil:
		b.Abort()
		var j struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(ans.Body, &j) == nil && j.ID != "" {
			c.Header("Location", importsPath+"/"+j.ID)
		}
		c.Header(headerReplayed, "true")
		c.Data(ans.Status, ans.ContentType, ans.Body)
		return
	}
	job, err := b.Commit(ctx, b.Skipped)
	if err != nil {
		_ = store.Release(ctx, claim)
		h.answerJob(c, nil, err)
		return
	}
	body, _ := json.Marshal(job)
	if err := store.Complete(ctx, claim, idempotency.Answer{Status: http.StatusAccepted, ContentType: "application/json; charset=utf-8", Body: body}); err != nil {
		h.s.log.Error("idempotency store failed", "request_id", requestID(c), "error", err.Error())
	}
	c.Header("Location", importsPath+"/"+job.ID)
	c.Data(http.StatusAccepted, "application/json; charset=utf-8", body)
}

func (h *importsHandler) answerJob(c *gin.Context, job *jobs.Job, err error) {
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", importsPath+"/"+job.ID)
	c.JSON(http.StatusAccepted, job)
}

// spec checks a job's options and resolves its connection.
func (h *importsHandler) spec(c *gin.Context, o ImportOptions) (jobs.Spec, error) {
	conn, ok := h.s.Connection(c, o.Connection)
	if !ok {
		return jobs.Spec{}, errAnswered
	}
	mode := o.Mode
	if mode == "" {
		mode = gateway.ModeMerge
	}
	if err := gateway.CheckOp(conn, gateway.Op{Kind: gateway.KindImport, Mode: mode}); err != nil {
		if errors.Is(err, gateway.ErrUnknownMode) {
			return jobs.Spec{}, modeRefusal(o.Mode)
		}
		return jobs.Spec{}, refuse(kindUnsupported,
			fmt.Sprintf("mode %q is not honoured by this %s connection (%s)", mode, conn.Common.Provider, strings.Join(conn.Provider.Modes(), ", ")),
			issue(schema.CodeInvalidOption, "mode", "a mode this connection honours"))
	}
	region, err := schema.ParseRegion(o.DefaultRegion)
	if err != nil {
		return jobs.Spec{}, err
	}
	return jobs.Spec{Connection: conn, CreatedBy: principal(c).Subject, Mode: mode, Strict: o.Strict, StrictOwner: o.StrictOwner,
		DryRun: o.DryRun, Dedupe: o.Dedupe == nil || *o.Dedupe, DefaultRegion: region, Mapping: o.Mapping}, nil
}

// errAnswered: the problem is already written (by Server.Connection).
var errAnswered = errors.New("api: the problem is already answered")

// fromJSON spools the JSON body (hashing it for the Idempotency-Key), reads
// its options, then streams its customers into a job.
func (h *importsHandler) fromJSON(c *gin.Context, fp hash.Hash) (_ *jobs.Builder, err error) {
	sp, err := jobs.Spool(io.TeeReader(c.Request.Body, fp), h.o.TempDir, h.o.MaxUploadBytes)
	if err != nil {
		if errors.Is(err, jobs.ErrTooLarge) {
			return nil, h.tooLarge()
		}
		return nil, err
	}
	defer func() { _ = sp.Remove() }()
	f, err := os.Open(sp.Path())
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	opts, found, err := readJSONOptions(f)
	if err != nil {
		return nil, notJSON("the body", err)
	}
	if !found {
		return nil, errNoCustomers
	}
	sp2, err := h.spec(c, opts)
	if err != nil {
		return nil, err
	}
	sp2.Source = jobs.Source{Kind: jobs.KindJSON}
	sp2.Header = []string{"index", "ref", "record"}
	b := h.o.Engine.NewBuilder(sp2)
	defer func() {
		if err != nil {
			b.Abort()
		}
	}()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	dec := jsontext.NewDecoder(f, jsontext.AllowDuplicateNames(true))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if tok.String() != "customers" {
			if err := dec.SkipValue(); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := dec.ReadToken(); err != nil { // [
			return nil, err
		}
		for dec.PeekKind() != ']' {
			v, err := dec.ReadValue()
			if err != nil {
				return nil, notJSON("the body", err)
			}
			if b.Rows() >= h.o.MaxJobRows {
				return nil, refuse(kindTooLarge, fmt.Sprintf("more than %d records (limits.max_job_rows)", h.o.MaxJobRows),
					issue(schema.CodeBatchTooLarge, "customers", fmt.Sprintf("at most %d records per job", h.o.MaxJobRows)))
			}
			it := jobs.Item{Record: bytes.Clone(v), Cells: nil}
			if v.Kind() != '{' {
				it.Errors = []schema.Issue{issue(schema.CodeInvalidValue, "", "a customer is a JSON object")}
			}
			b.Add(it)
		}
		break
	}
	if b.Rows() == 0 {
		return nil, errEmptyCustomers
	}
	return b, nil
}

// readJSONOptions reads the keys of a JSON job body other than customers
// strictly (unknown, duplicate and case-variant keys refused), skipping
// customers, which must be an array.
func readJSONOptions(r io.Reader) (ImportOptions, bool, error) {
	var o ImportOptions
	dec := jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return o, false, errEmptyBody
	}
	if tok.Kind() != '{' {
		return o, false, errNotObject
	}
	var opts bytes.Buffer
	opts.WriteByte('{')
	found := false
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return o, false, err
		}
		name := tok.String()
		if name == "customers" {
			if found {
				return o, false, &KeyError{Key: name, Code: schema.CodeInvalidValue, Message: "the key \"customers\" appears twice"}
			}
			found = true
			if dec.PeekKind() != '[' {
				return o, false, &KeyError{Key: name, Code: schema.CodeInvalidValue, Message: "customers must be a JSON array"}
			}
			if err := dec.SkipValue(); err != nil {
				return o, false, err
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			return o, false, err
		}
		if opts.Len() > 1 {
			opts.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		opts.Write(k)
		opts.WriteByte(':')
		opts.Write(v)
	}
	if _, err := dec.ReadToken(); err != nil {
		return o, false, err
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return o, false, errTwoValues
	}
	opts.WriteByte('}')
	if err := strictjson.Unmarshal(opts.Bytes(), &o); err != nil {
		return o, false, err
	}
	return o, found, nil
}

// fromMultipart reads the options part and the file part (hashing both)
// into a job. A CSV file that comes after its options is read row by row as
// it arrives, so that the job is built by the time its last byte is in; a
// file before its options, or an XLSX one (which needs random access), is
// spooled first and read once it is whole.
func (h *importsHandler) fromMultipart(c *gin.Context, fp hash.Hash) (_ *jobs.Builder, err error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, readFailed("the multipart body", err)
	}
	var (
		opts     []byte
		sp       *jobs.Spooled
		b        *jobs.Builder // built as the file came
		name, ct string
	)
	defer func() {
		if sp != nil {
			_ = sp.Remove()
		}
		if err != nil && b != nil {
			b.Abort()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch part.FormName() {
		case "options":
			if opts != nil {
				return nil, refuse(kindInvalid, "the options part appears twice", issue(schema.CodeInvalidValue, "options", "one options part"))
			}
			if pct := part.Header.Get("Content-Type"); pct != "" {
				if mt, _, _ := mime.ParseMediaType(pct); mt != "application/json" {
					return nil, refuse(kindMediaType, "the options part is JSON (Content-Type: application/json or none)")
				}
			}
			opts, err = io.ReadAll(io.LimitReader(part, maxOptionsBytes+1))
			if err != nil {
				return nil, err
			}
			if len(opts) > maxOptionsBytes {
				return nil, refuse(kindTooLarge, "the options part is over 1 MiB")
			}
			fp.Write([]byte("options\x00"))
			fp.Write(opts)
			fp.Write([]byte{0})
		case "file":
			if sp != nil || b != nil {
				return nil, refuse(kindInvalid, "the file part appears twice", issue(schema.CodeInvalidValue, "file", "one file per job"))
			}
			name, ct = part.FileName(), part.Header.Get("Content-Type")
			fp.Write([]byte("file\x00" + name + "\x00"))
			body := bufio.NewReaderSize(io.TeeReader(part, fp), 64<<10)
			head, _ := body.Peek(8)
			if opts != nil && jobs.DetectKind(name, ct, head) == jobs.KindCSV {
				if b, err = h.streamCSV(c, opts, name, body); err != nil {
					// Answered once the whole upload is in, as a
					// spooled file would be.
					_, _ = io.Copy(io.Discard, c.Request.Body)
					return nil, err
				}
				continue
			}
			sp, err = jobs.Spool(body, h.o.TempDir, h.o.MaxUploadBytes)
			if err != nil {
				if errors.Is(err, jobs.ErrTooLarge) {
					return nil, h.tooLarge()
				}
				return nil, err
			}
		default:
			return nil, refuse(kindInvalid, "unknown part "+quote(part.FormName()),
				issue(schema.CodeUnknownField, part.FormName(), "the parts are options and file"))
		}
	}
	if b != nil {
		return b, nil
	}
	if sp == nil {
		return nil, refuse(kindInvalid, "the file part is required", issue(schema.CodeRequired, "file", "a CSV or XLSX file"))
	}
	o, spec, err := h.multipartSpec(c, opts)
	if err != nil {
		return nil, err
	}
	kind := jobs.DetectKind(name, ct, sp.Head())
	r, err := sp.Open(kind, jobs.ReadOptions{MaxRows: h.o.MaxJobRows, MaxBytes: h.o.MaxUploadBytes, TempDir: h.o.TempDir})
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	return h.build(o, spec, r, name)
}

// streamCSV builds a job from a CSV file part as it is read; the part is
// read to its end.
func (h *importsHandler) streamCSV(c *gin.Context, opts []byte, name string, body io.Reader) (*jobs.Builder, error) {
	o, spec, err := h.multipartSpec(c, opts)
	if err != nil {
		return nil, err
	}
	r, err := jobs.NewCSVReader(body, jobs.ReadOptions{MaxRows: h.o.MaxJobRows, MaxBytes: h.o.MaxUploadBytes, TempDir: h.o.TempDir})
	if err == nil {
		defer func() { _ = r.Close() }()
		var b *jobs.Builder
		if b, err = h.build(o, spec, r, name); err == nil {
			if _, err = io.Copy(io.Discard, body); err == nil { // the part's end: nothing there, but hashed
				return b, nil
			}
			b.Abort()
		}
	}
	if errors.Is(err, jobs.ErrTooLarge) {
		return nil, h.tooLarge()
	}
	return nil, err
}

// multipartSpec decodes the options part (nil when there is none) and
// checks it.
func (h *importsHandler) multipartSpec(c *gin.Context, opts []byte) (ImportOptions, jobs.Spec, error) {
	var o ImportOptions
	if len(opts) > 0 {
		if err := decodeStrict(opts, &o); err != nil {
			return o, jobs.Spec{}, notJSON("the options part", err)
		}
	}
	spec, err := h.spec(c, o)
	return o, spec, err
}

// build maps the columns of r and reads its rows into a new job of spec.
func (h *importsHandler) build(o ImportOptions, spec jobs.Spec, r *jobs.Reader, name string) (*jobs.Builder, error) {
	m, err := jobs.NewMapping(r.Header(), o.Mapping, spec.Connection.Rules().Config().CustomFields)
	if err != nil {
		return nil, err
	}
	spec.Source = jobs.Source{Kind: r.Kind(), Name: filepath.Base(name)}
	if name == "" {
		spec.Source.Name = ""
	}
	spec.Header = r.Header()
	spec.Unmapped = m.Unmapped()
	b := h.o.Engine.NewBuilder(spec)
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Abort()
			return nil, err
		}
		it := jobs.Item{Row: row.Number, Cells: row.Cells}
		whatsapp := ""
		if row.Issue != nil {
			it.Errors = []schema.Issue{*row.Issue}
		} else {
			it.Record = m.Record(row.Cells)
			it.Ref, whatsapp = m.Value(row.Cells, schema.FieldRef), m.Value(row.Cells, schema.FieldWhatsApp)
		}
		b.AddRow(it, whatsapp)
	}
	b.Skipped = r.Skipped()
	return b, nil
}

// visible finds job id for the caller: 404 for a job of another app
// (unless admin) or none; 403 for a job of a connection the token lacks.
func (h *importsHandler) visible(c *gin.Context) (*jobs.Job, bool) {
	job, err := h.o.Engine.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, storeFailed("the import job could not be read; retry later", err))
		return nil, false
	}
	p := principal(c)
	if job.CreatedBy != p.Subject && !p.Has(auth.ScopeAdmin) {
		// Told apart from none by nothing, so that ids cannot be probed.
		fail(c, jobs.ErrNotFound)
		return nil, false
	}
	if !p.Allowed(job.Connection) {
		fail(c, notAllowed(job.Connection))
		return nil, false
	}
	return job, true
}

func (h *importsHandler) get(c *gin.Context) {
	if job, ok := h.visible(c); ok {
		c.JSON(http.StatusOK, job)
	}
}

func (h *importsHandler) list(c *gin.Context) {
	p := principal(c)
	f := jobs.Filter{Allowed: p.Allowed}
	if !p.Has(auth.ScopeAdmin) {
		f.CreatedBy = p.Subject
	}
	if id := c.Query("connection"); id != "" {
		conn, ok := h.s.Connection(c, id)
		if !ok {
			return
		}
		f.Connection = conn.ID
	}
	switch st := jobs.Status(c.Query("status")); st {
	case "", jobs.StatusQueued, jobs.StatusRunning, jobs.StatusCompleted, jobs.StatusCanceled, jobs.StatusFailed:
		f.Status = st
	default:
		fail(c, refuse(kindInvalid, "status must be queued, running, completed, canceled or failed",
			issue(schema.CodeInvalidOption, "status", "queued, running, completed, canceled or failed")))
		return
	}
	limit, err := pageLimit(c, defaultPage, maxPage)
	if err != nil {
		fail(c, err)
		return
	}
	f.Limit = limit
	if cur := c.Query("cursor"); cur != "" {
		if !strings.HasPrefix(cur, "imp_") {
			fail(c, errBadCursor)
			return
		}
		f.After = cur
	}
	list, more, err := h.o.Engine.List(c.Request.Context(), f)
	if err != nil {
		fail(c, storeFailed("the import jobs could not be listed; retry later", err))
		return
	}
	page := ImportJobPage{Jobs: list}
	if page.Jobs == nil {
		page.Jobs = []*jobs.Job{}
	}
	if more {
		page.NextCursor = list[len(list)-1].ID
	}
	c.JSON(http.StatusOK, page)
}

// eachRow calls fn for each row of job from index from on, in row order,
// with its result (nil while it has none), until fn returns false.
func (h *importsHandler) eachRow(ctx context.Context, job *jobs.Job, from int, fn func(it jobs.Item, r *jobs.Result) bool) error {
	if job.ChunkSize <= 0 {
		return nil
	}
	for no := from / job.ChunkSize; no < job.Chunks; no++ {
		items, results, err := h.o.Engine.Chunk(ctx, job.ID, no)
		if err != nil {
			return err
		}
		for i, it := range items {
			if it.Index < from {
				continue
			}
			var r *jobs.Result
			if results != nil {
				r = &results[i]
			}
			if !fn(it, r) {
				return nil
			}
		}
	}
	return nil
}

func (h *importsHandler) results(c *gin.Context) {
	job, ok := h.visible(c)
	if !ok {
		return
	}
	limit, err := pageLimit(c, defaultPage, maxPage)
	if err != nil {
		fail(c, err)
		return
	}
	status := answer.Status(c.Query("status"))
	switch status {
	case "", answer.StatusSucceeded, answer.StatusFailed, answer.StatusUnknown, answer.StatusValid:
	default:
		fail(c, refuse(kindInvalid, "status must be succeeded, failed, unknown or valid",
			issue(schema.CodeInvalidOption, "status", "succeeded, failed, unknown or valid")))
		return
	}
	from := 0
	if cur := c.Query("cursor"); cur != "" {
		n, err := decodeCursor(cur)
		if err != nil {
			fail(c, errBadCursor)
			return
		}
		from = n
	}
	page := ImportResultPage{Results: []jobs.Result{}}
	next := -1
	err = h.eachRow(c.Request.Context(), job, from, func(it jobs.Item, r *jobs.Result) bool {
		if r == nil {
			// Not answered yet: the page ends here, the cursor resumes here.
			next = it.Index
			return false
		}
		if len(page.Results) == limit {
			next = it.Index
			return false
		}
		if status == "" || r.Status == status {
			page.Results = append(page.Results, *r)
		}
		return true
	})
	if err != nil {
		fail(c, storeFailed("the results could not be read; retry later", err))
		return
	}
	if next >= 0 {
		page.NextCursor = encodeCursor(next)
	}
	c.JSON(http.StatusOK, page)
}

func (h *importsHandler) report(c *gin.Context) {
	job, ok := h.visible(c)
	if !ok {
		return
	}
	kind := jobs.KindCSV
	switch c.Query("format") {
	case "":
		if job.Source.Kind == jobs.KindXLSX {
			kind = jobs.KindXLSX
		}
	case "csv":
	case "xlsx":
		kind = jobs.KindXLSX
	default:
		fail(c, refuse(kindInvalid, "format must be csv or xlsx", issue(schema.CodeInvalidOption, "format", "csv or xlsx")))
		return
	}
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(transferBound(int64(job.Total) * 512)))
	base := strings.TrimSuffix(job.Source.Name, filepath.Ext(job.Source.Name))
	if base == "" {
		base = job.ID
	}
	ct := "text/csv; charset=utf-8"
	if kind == jobs.KindXLSX {
		ct = jobs.XLSXContentType
	}
	c.Header("Content-Type", ct)
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": base + ".report." + string(kind)}))
	c.Status(http.StatusOK)
	w, err := jobs.NewReportWriter(c.Writer, kind, job.Header)
	if err != nil {
		h.s.log.Error("report not written", "job", job.ID, "error", err.Error())
		return
	}
	ok = true
	err = h.eachRow(c.Request.Context(), job, 0, func(it jobs.Item, r *jobs.Result) bool {
		if r == nil || r.Status == answer.StatusSucceeded || (job.DryRun && r.Status == answer.StatusValid) {
			return true
		}
		cells := it.Cells
		if job.Source.Kind == jobs.KindJSON {
			cells = []string{strconv.Itoa(it.Index), r.Ref, string(it.Record)}
		}
		if err := w.WriteRow(jobs.ReportRow{Cells: cells, Status: string(r.Status), Errors: r.Errors}); err != nil {
			ok = false
			return false
		}
		return true
	})
	if err != nil || !ok {
		h.s.log.Error("report cut short", "job", job.ID)
		return
	}
	if err := w.Close(); err != nil {
		h.s.log.Error("report not completed", "job", job.ID, "error", err.Error())
	}
}

func (h *importsHandler) cancel(c *gin.Context) {
	job, ok := h.visible(c)
	if !ok {
		return
	}
	if job.Status.Ended() {
		fail(c, refuse(kindConflict, "the import job has already ended ("+string(job.Status)+")"))
		return
	}
	// A job that ends meanwhile is still jobs.ErrEnded.
	job, err := h.o.Engine.Cancel(c.Request.Context(), job.ID)
	if err != nil {
		fail(c, storeFailed("the import job could not be canceled; retry later", err))
		return
	}
	c.JSON(http.StatusOK, job)
}

func (h *importsHandler) retry(c *gin.Context) {
	job, ok := h.visible(c)
	if !ok {
		return
	}
	if !job.Status.Ended() {
		fail(c, refuse(kindConflict, "the import job is still "+string(job.Status)+"; retry it once it has ended"))
		return
	}
	spec, err := h.spec(c, ImportOptions{Connection: job.Connection, Mode: job.Mode, Strict: job.Strict, StrictOwner: job.StrictOwner,
		DryRun: job.DryRun, DefaultRegion: job.DefaultRegion})
	if err != nil {
		if !errors.Is(err, errAnswered) {
			fail(c, err)
		}
		return
	}
	spec.Dedupe = false // the rows were deduplicated by the first job
	spec.Mapping, spec.Header, spec.RetryOf = job.Mapping, job.Header, job.ID
	spec.Source = jobs.Source{Kind: job.Source.Kind, Name: job.Source.Name}
	spec.Unmapped = job.UnmappedColumns
	b := h.o.Engine.NewBuilder(spec)
	err = h.eachRow(c.Request.Context(), job, 0, func(it jobs.Item, r *jobs.Result) bool {
		if r != nil && it.Record != nil && jobs.Retryable(*r) {
			b.Add(jobs.Item{Row: it.Row, Record: it.Record, Cells: it.Cells, Ref: it.Ref})
		}
		return true
	})
	if err != nil {
		b.Abort()
		fail(c, storeFailed("the import job could not be read; retry later", err))
		return
	}
	if b.Rows() == 0 {
		b.Abort()
		fail(c, refuse(kindInvalid, "the import job has no row to retry (unknown, or failed with provider_unavailable or record_busy)"))
		return
	}
	created, err := b.Commit(c.Request.Context(), 0)
	h.answerJob(c, created, err)
}
