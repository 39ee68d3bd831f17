package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path, remote string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if remote != "" {
		req.RemoteAddr = remote
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

// Every answer carries the strict policy; the page's own files are served.
func TestConsoleFilesAndHeaders(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	for _, p := range []string{"/console/", "/console/console.js", "/console/sheet.js", "/console/console.css", "/console/fields.json", "/console/nothing"} {
		res := get(t, h, p, "")
		if got := res.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s: Content-Security-Policy %q", p, got)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
		want := http.StatusOK
		if p == "/console/nothing" {
			want = http.StatusNotFound
		}
		if res.StatusCode != want {
			t.Errorf("%s: status %d", p, res.StatusCode)
		}
	}
	for _, d := range []string{"default-src 'self'", "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "script-src 'self';", "style-src 'self';"} {
		if !strings.Contains(CSP, d) {
			t.Errorf("the policy lacks %s", d)
		}
	}
	body, _ := io.ReadAll(get(t, h, "/console/", "").Body)
	for _, want := range []string{`<script type="module" src="console.js">`, "Start import", "Download report"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("index.html lacks %s", want)
		}
	}
	for _, bad := range []string{"http://", "https://", "style=", "<style", "onclick="} {
		if strings.Contains(string(body), bad) {
			t.Errorf("index.html holds %q", bad)
		}
	}
	var f struct{ Fields []string }
	if err := json.NewDecoder(get(t, h, "/console/fields.json", "").Body).Decode(&f); err != nil || len(f.Fields) < 20 || f.Fields[0] != "ref" {
		t.Errorf("fields.json: %v %v", err, f.Fields)
	}
}

// The development token is answered only in sandbox mode and only to a
// loopback client.
func TestConsoleDevToken(t *testing.T) {
	t.Parallel()
	sandbox := Handler(Options{DevToken: "tok.en.x"})
	for _, tc := range []struct {
		h      http.Handler
		remote string
		want   int
	}{
		{sandbox, "127.0.0.1:4000", 200},
		{sandbox, "[::1]:4000", 200},
		{sandbox, "192.0.2.7:4000", 404},
		{sandbox, "10.0.0.1:4000", 404},
		{Handler(Options{}), "127.0.0.1:4000", 404},
	} {
		res := get(t, tc.h, "/console/dev-token", tc.remote)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.remote, res.StatusCode, tc.want)
			continue
		}
		if tc.want == 200 {
			var b struct{ Token string }
			if err := json.NewDecoder(res.Body).Decode(&b); err != nil || b.Token != "tok.en.x" || res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("answer %v %q %q", err, b.Token, res.Header.Get("Cache-Control"))
			}
		}
	}
	// A forwarded header does not make a remote client local.
	req := httptest.NewRequest(http.MethodGet, "/console/dev-token", nil)
	req.RemoteAddr = "192.0.2.7:4000"
	req.Header.Set("X-Forwarded-For", "127.0.0.1")
	w := httptest.NewRecorder()
	sandbox.ServeHTTP(w, req)
	if w.Code != 404 {
		t.Errorf("with X-Forwarded-For: %d", w.Code)
	}
}
