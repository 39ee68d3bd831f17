package importcli_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"crmgate/importcli"
)

// gatedReader yields size bytes of CSV rows; after the first half it waits
// until the gateway has received a first MiB of the file, so an upload that
// read the file whole before sending it would never finish.
type gatedReader struct {
	size, read int
	gate       <-chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.read >= g.size {
		return 0, io.EOF
	}
	if g.read >= g.size/2 {
		select {
		case <-g.gate:
		case <-time.After(30 * time.Second):
			return 0, errors.New("the gateway received nothing while the file was being read")
		}
	}
	n := min(len(p), g.size-g.read)
	for i := range p[:n] {
		p[i] = "Li Heng,8615266667780\n"[(g.read+i)%22]
	}
	g.read += n
	return n, nil
}

// The file is streamed: the gateway receives its start before its end has
// been read, and lastByte is called once the whole body is sent.
func TestCreateStreamsTheFile(t *testing.T) {
	gate := make(chan struct{})
	var received int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			t.Error(err)
			return
		}
		opened := false
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			if part.FormName() != "file" {
				continue
			}
			buf := make([]byte, 64<<10)
			for {
				n, err := part.Read(buf)
				received += int64(n)
				if received >= 1<<20 && !opened {
					close(gate)
					opened = true
				}
				if err != nil {
					break
				}
			}
		}
		w.Header().Set("Location", "/v1/imports/imp_7")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"queued","total":1}`)
	}))
	defer srv.Close()
	const size = 16 << 20
	c := &importcli.Client{URL: srv.URL, Token: "t"}
	sent := 0
	job, err := c.Create(context.Background(), importcli.Options{Connection: "c"}, "big.csv",
		&gatedReader{size: size, gate: gate}, func() { sent++ })
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "imp_7" || received != size || sent != 1 {
		t.Errorf("job %q (from Location), %d of %d bytes received, lastByte called %d times", job.ID, received, size, sent)
	}
}

// A refusal that is not problem+json still names the status and what
// the body said.
func TestProblemOfPlainAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found", http.StatusNotFound)
	}))
	defer srv.Close()
	_, err := (&importcli.Client{URL: srv.URL}).Get(context.Background(), "imp_1")
	var p *importcli.Problem
	if !errors.As(err, &p) || p.Status != 404 || p.Title != "Not Found" || !strings.Contains(p.Detail, "page not found") {
		t.Errorf("%#v", err)
	}
}

// Options.IdempotencyKey goes in the Idempotency-Key header, never in the
// options part; without one no header is sent.
func TestCreateSendsTheIdempotencyKey(t *testing.T) {
	var keys, options []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		if _, ok := r.Header["Idempotency-Key"]; !ok {
			keys[len(keys)-1] = "(none)"
		}
		mr, err := r.MultipartReader()
		if err != nil {
			t.Error(err)
			return
		}
		for part, err := mr.NextPart(); err == nil; part, err = mr.NextPart() {
			if part.FormName() == "options" {
				b, _ := io.ReadAll(part)
				options = append(options, string(b))
			}
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"imp_1","status":"queued"}`)
	}))
	defer srv.Close()
	c := &importcli.Client{URL: srv.URL}
	for _, key := range []string{"k-1", ""} {
		if _, err := c.Create(context.Background(), importcli.Options{Connection: "c", IdempotencyKey: key}, "a.csv", strings.NewReader("name\nx\n"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != 2 || keys[0] != "k-1" || keys[1] != "(none)" || options[0] != `{"connection":"c"}` || options[1] != options[0] {
		t.Errorf("keys %q, options %q", keys, options)
	}
}
