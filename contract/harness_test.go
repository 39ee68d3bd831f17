package contract_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"crmgate/app"
	"crmgate/config"
	"crmgate/internal/apptest"
)

// offSpec marks a request the test sends deliberately outside the document
// (malformed JSON, a wrong content type): its request is not validated, its
// answer is. The harness removes the header before the gateway sees it.
const offSpec = "X-Contract-Off-Spec"

// maxBody is the sandbox's body limit in these tests, small enough to test 413.
const maxBody = 64 << 10

// docPath is the document, the one the binary embeds and serves.
const docPath = "../openapi.yaml"

// docBytes reads the document.
func docBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadDoc parses the document.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docBytes(t))
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	return doc
}

// gw is a running sandbox gateway whose every request and answer is checked
// against openapi.yaml on the server side, whoever sends it (the tests, the
// generated client, the browser, the simulators' webhooks).
type gw struct {
	URL    string
	Token  string // the sandbox's dev token: every scope, every connection
	app    *apptest.Gateway
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	problems []string
	seen     map[string][]int // operation id → statuses answered
}

// startGateway builds the gateway from cfg (nil: the sandbox, as `go run .`
// with no configuration starts it) and serves it on a loopback port until the
// test ends, then reports every mismatch with openapi.yaml.
func startGateway(t *testing.T, cfg *config.Config) *gw {
	t.Helper()
	if cfg == nil {
		cfg = apptest.Sandbox(t)
	}
	cfg.Limits.MaxBodyBytes = maxBody
	g := &gw{seen: map[string][]int{}}
	// Registered before the gateway's own cleanup, so run after it: what
	// was answered until the very end is reported.
	t.Cleanup(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, p := range g.problems {
			t.Error(p)
		}
	})
	g.app = apptest.Start(t, apptest.Options{
		Config: cfg,
		Run:    true,
		// One quick retry, so that a refused delivery becomes a listed
		// failure within the test.
		App: app.Options{DeliverySchedule: []time.Duration{time.Millisecond}, DeliveryPoll: 10 * time.Millisecond, OpenAPI: docBytes(t)},
		Wrap: func(a *apptest.Gateway, h http.Handler) http.Handler {
			g.doc = loadDoc(t)
			g.doc.Servers = openapi3.Servers{{URL: a.URL}}
			var err error
			if g.router, err = legacy.NewRouter(g.doc); err != nil {
				t.Fatal(err)
			}
			return g.check(h)
		},
	})
	g.URL, g.Token = g.app.URL, g.app.App.DevToken
	return g
}

// token mints a token for the sandbox with the given scopes and connections.
func (g *gw) token(t *testing.T, scopes []string, conns ...string) string {
	t.Helper()
	return g.app.Token(t, "contract-test", scopes, conns...)
}

func (g *gw) fail(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.problems = append(g.problems, fmt.Sprintf(format, args...))
}

// statuses returns what each operation answered so far.
func (g *gw) statuses() map[string][]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string][]int{}
	for k, v := range g.seen {
		out[k] = slices.Clone(v)
	}
	return out
}

var filterOptions = &openapi3filter.Options{
	IncludeResponseStatus: true, // an undocumented status fails
	MultiError:            true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		// The gateway decides whether a token is good; the document only
		// says that a bearer token is sent.
		h := in.RequestValidationInput.Request.Header.Get("Authorization")
		if !strings.HasPrefix(h, "Bearer ") {
			return fmt.Errorf("no bearer token")
		}
		return nil
	},
}

// check validates each request (unless marked off-spec) and each answer of a
// documented path. Paths the document does not describe (Swagger UI's
// assets, the console's page) pass unchecked; an undocumented method on a
// documented path fails.
func (g *gw) check(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/swagger/") || strings.HasPrefix(r.URL.Path, "/console") {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		skipRequest := r.Header.Get(offSpec) != ""
		r.Header.Del(offSpec)

		probe := r.Clone(r.Context())
		probe.Body = io.NopCloser(bytes.NewReader(body))
		probe.URL.Scheme, probe.URL.Host = "http", r.Host
		route, params, err := g.router.FindRoute(probe)
		if err != nil {
			g.fail("%s %s: not in openapi.yaml: %v", r.Method, r.URL.Path, err)
			next.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route, Options: filterOptions}
		if !skipRequest {
			if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
				g.fail("%s %s: the request does not match openapi.yaml: %v", r.Method, r.URL.Path, err)
			}
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		out, _ := io.ReadAll(res.Body)
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
			Body: io.NopCloser(bytes.NewReader(out)), Options: filterOptions}
		if err := openapi3filter.ValidateResponse(r.Context(), rv); err != nil {
			g.fail("%s %s → %d: the answer does not match openapi.yaml: %v\nbody: %.600s", r.Method, r.URL.Path, res.StatusCode, err, out)
		}
		g.mu.Lock()
		g.seen[route.Operation.OperationID] = append(g.seen[route.Operation.OperationID], res.StatusCode)
		g.mu.Unlock()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(out)
	})
}
