package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"crmgate/internal/readme"
)

// prismErrors is where the types of the problems Prism writes itself start:
// a request it refused (#UNPROCESSABLE_ENTITY, #UNAUTHORIZED, …) or an answer
// out of contract (#VIOLATIONS, with --errors).
const prismErrors = "https://stoplight.io/prism/errors#"

// readmeBase is where the README's examples send (go run . listens there).
const readmeBase = "http://127.0.0.1:8080"

// TestPrismProxy sends the README's curl examples, as written, and every
// contract case whose request is in the document through Stoplight Prism in
// proxy mode (prism proxy openapi.yaml <gateway> --errors), a validator
// independent of the harness's kin-openapi: a request or answer Prism finds
// out of contract fails (its own error answer, or an sl-violations header).
// It also proves that Prism catches both: a body the document refuses is
// refused, and an answer a doctored copy of the document does not allow is
// reported.
//
// Prism is the binary $PRISM (.ci/run installs @stoplight/prism-cli and sets
// it); without it the test skips, and under CI=true it fails.
func TestPrismProxy(t *testing.T) {
	bin := os.Getenv("PRISM")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PRISM is not set: .ci/run installs Stoplight Prism and sets it")
		}
		t.Skip("PRISM is not set (the path of Stoplight Prism's prism binary; .ci/run installs it)")
	}
	g := startGateway(t, nil)
	prism := startPrism(t, bin, docPath, g.URL)

	t.Run("README examples", func(t *testing.T) {
		b, err := os.ReadFile("../README.md")
		if err != nil {
			t.Fatal(err)
		}
		curls, err := readme.Curls(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(curls) < 3 {
			t.Fatalf("%d curl examples in README.md", len(curls))
		}
		for _, c := range curls {
			t.Run(c.Method+" "+c.URL, func(t *testing.T) { sendCurl(t, g, prism, c) })
		}
	})

	t.Run("contract cases", func(t *testing.T) {
		n := 0
		for _, c := range contractCalls(t, g) {
			if c.offSpec {
				continue // deliberately outside the document: Prism would refuse it
			}
			n++
			check := c.check
			c.check = func(t *testing.T, h http.Header, body []byte) {
				t.Helper()
				inContract(t, h, body)
				if check != nil {
					check(t, h, body)
				}
			}
			t.Run(c.name, func(t *testing.T) { g.doAt(t, prism, c) })
		}
		if n < 40 {
			t.Fatalf("only %d contract cases sent through Prism", n)
		}
	})

	t.Run("a body the document refuses is refused", func(t *testing.T) {
		res, body := send(t, http.MethodPost, prism+"/v1/customers", g.Token,
			`{"connection":"sandbox-nxlink","all_or_nothin":true,"customers":[{"name":"x","whatsapp":"8615266667780"}]}`)
		if typ := problemTypeOf(body); res.StatusCode != 422 || typ != prismErrors+"UNPROCESSABLE_ENTITY" || !bytes.Contains(body, []byte("all_or_nothin")) {
			t.Errorf("not Prism's refusal naming the key: %d %s", res.StatusCode, body)
		}
	})

	t.Run("an answer out of contract is reported", func(t *testing.T) {
		// A copy of the document in which /healthz may only answer
		// "status": "fine": the gateway's "ok" is out of contract there.
		doc := loadDoc(t)
		doc.Components.Schemas["Health"].Value.Properties["status"].Value.Enum = []any{"fine"}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "doctored.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		doctored := startPrism(t, bin, path, g.URL)
		res, body := send(t, http.MethodGet, doctored+"/healthz", "", "")
		if typ := problemTypeOf(body); res.StatusCode != 500 || typ != prismErrors+"VIOLATIONS" || !strings.Contains(res.Header.Get("sl-violations"), "status") {
			t.Errorf("the violation is not reported (type %q, sl-violations %q): %s", typ, res.Header.Get("sl-violations"), body)
		}
	})
}

// inContract fails when Prism found the request or the answer out of
// contract.
func inContract(t *testing.T, h http.Header, body []byte) {
	t.Helper()
	if v := h.Get("sl-violations"); v != "" {
		t.Errorf("Prism reports violations: %s", v)
	}
	if typ := problemTypeOf(body); strings.HasPrefix(typ, prismErrors) {
		t.Errorf("Prism answered itself (%s): %.800s", typ, body)
	}
}

// send makes one request (a JSON body when body is set, a bearer token when
// token is) and returns the answer whatever it is.
func send(t *testing.T, method, url, token, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, out
}

func problemTypeOf(body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &p)
	return p.Type
}

// sendCurl sends a README example to base as it is written, with the
// sandbox's token for $CRMGATE_TOKEN and files named from the repository's
// root, and expects a success in contract.
func sendCurl(t *testing.T, g *gw, base string, c readme.Curl) {
	t.Helper()
	path, ok := strings.CutPrefix(c.URL, readmeBase)
	if !ok {
		t.Fatalf("the example does not send to %s: %s", readmeBase, c.URL)
	}
	expand := func(s string) string {
		return os.Expand(s, func(name string) string {
			if name != "CRMGATE_TOKEN" {
				t.Fatalf("the example uses $%s, which the sandbox does not print", name)
			}
			return g.Token
		})
	}
	body, ctype := io.Reader(nil), ""
	switch {
	case len(c.Form) > 0:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, f := range c.Form {
			if err := writePart(mw, f); err != nil {
				t.Fatal(err)
			}
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		body, ctype = &buf, mw.FormDataContentType()
	case c.Body != "":
		body = strings.NewReader(c.Body)
		ctype = "application/x-www-form-urlencoded" // curl's own for -d, unless a header says otherwise
	}
	req, err := http.NewRequest(c.Method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Set(k, expand(v))
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		t.Errorf("%s %s: %d %.800s", c.Method, path, res.StatusCode, out)
	}
	inContract(t, res.Header, out)
}

// writePart writes one curl -F part: name=value or name=@file (read from the
// repository's root), with ;type=… as its content type.
func writePart(mw *multipart.Writer, f string) error {
	name, value, ok := strings.Cut(f, "=")
	if !ok {
		return fmt.Errorf("-F %q is not name=value", f)
	}
	ctype := ""
	if v, typ, ok := strings.Cut(value, ";type="); ok {
		value, ctype = v, typ
	}
	h := textproto.MIMEHeader{}
	content := []byte(value)
	if file, ok := strings.CutPrefix(value, "@"); ok {
		b, err := os.ReadFile(filepath.Join("..", file))
		if err != nil {
			return err
		}
		content = b
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, filepath.Base(file)))
	} else {
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, name))
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	w, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = w.Write(content)
	return err
}

// startPrism runs prism proxy doc upstream --errors on a free loopback port
// until the test ends, and returns its address once it answers. Its output
// is shown when the test fails.
func startPrism(t *testing.T, bin, doc, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "proxy", doc, upstream, "--errors", "--host", "127.0.0.1", "--port", port)
	// One writer for both: exec writes to it from one goroutine at a time,
	// and it is read only once Prism has exited.
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("prism proxy %s:\n%s", doc, out)
		}
	})
	base := "http://127.0.0.1:" + port
	// Bounded wait for Prism to load the document and listen; a Prism that
	// exits (a document it cannot read) fails at once. Its output is shown
	// by the cleanup, once it has exited.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prism proxy exited before it listened: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if conn, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			conn.Close()
			return base
		}
	}
	t.Fatal("prism proxy did not listen within 2 minutes")
	return ""
}
