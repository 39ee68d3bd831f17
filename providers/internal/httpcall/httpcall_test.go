package httpcall

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"crmgate/gateway"
)

func TestStatusesReadIntoErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		limit       int64
		unavailable bool   // errors.Is(err, gateway.ErrUnavailable)
		tooLarge    bool   // errors.Is(err, gateway.ErrAnswerTooLarge)
		provider    bool   // a *gateway.ProviderError
		location    string // its Location
		retryAfter  time.Duration
		body2       string // Answer.Body
	}{
		{name: "ok", status: 200, body: `{"code":0}`, limit: 100, body2: `{"code":0}`},
		{name: "ok too large", status: 200, body: strings.Repeat("x", 101), limit: 100, tooLarge: true},
		{name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "7"}, body: "busy", limit: 100,
			unavailable: true, provider: true, retryAfter: 7 * time.Second},
		{name: "429", status: 429, body: "slow down", limit: 100, unavailable: true, provider: true},
		{name: "302", status: 302, header: map[string]string{"Location": "https://user:pw@elsewhere/x"}, limit: 100,
			provider: true, location: "https://elsewhere/x"},
		{name: "400 keeps its body", status: 400, body: `{"code":10001}`, limit: 100, provider: true, body2: `{"code":10001}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header["X-Exact"] == nil {
					t.Error("header key was canonicalised")
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			hc := gateway.NoRedirect(srv.Client())
			ans, err := Do(context.Background(), hc, Request{Provider: "Peer", BaseURL: srv.URL, Path: "/p",
				Header: http.Header{"X-Exact": {"1"}}, Body: []byte("{}"), Limit: tt.limit})
			if got := errors.Is(err, gateway.ErrUnavailable); got != tt.unavailable {
				t.Errorf("unavailable = %v, want %v (%v)", got, tt.unavailable, err)
			}
			if got := errors.Is(err, gateway.ErrAnswerTooLarge); got != tt.tooLarge {
				t.Errorf("too large = %v, want %v (%v)", got, tt.tooLarge, err)
			}
			var pe *gateway.ProviderError
			if got := errors.As(err, &pe); got != tt.provider {
				t.Fatalf("provider error = %v, want %v (%v)", got, tt.provider, err)
			}
			if pe != nil && pe.Location != tt.location {
				t.Errorf("location = %q, want %q", pe.Location, tt.location)
			}
			if got := gateway.RetryAfterOf(err); got != tt.retryAfter {
				t.Errorf("retry after = %v, want %v", got, tt.retryAfter)
			}
			if string(ans.Body) != tt.body2 {
				t.Errorf("body = %q, want %q", ans.Body, tt.body2)
			}
			if err == nil && ans.Status != tt.status {
				t.Errorf("status = %d", ans.Status)
			}
		})
	}
}

func TestNoAnswerHidesTheURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1)
	srv.Close()
	_, err := Do(context.Background(), http.DefaultClient, Request{Provider: "Peer", BaseURL: base, Path: "/p", Limit: 10})
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message shows the credential: %v", err)
	}
}

// TestSendPaths: a plain client's request goes to its transport, which
// follows no redirect even when the client would; a URL with credentials
// still gets them as basic auth (Client.Do's work); answers with and
// without a length are read whole; and a refused call's message holds no
// credential of the URL on either path.
func TestSendPaths(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/auth", http.StatusFound)
		case "/auth":
			user, pass, _ := r.BasicAuth()
			_, _ = io.WriteString(w, user+":"+pass)
		case "/chunked":
			for range 3 {
				_, _ = io.WriteString(w, strings.Repeat("c", 1000))
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer srv.Close()
	follows := &http.Client{} // would follow a redirect through Client.Do
	ans, err := Do(context.Background(), follows, Request{Provider: "Peer", BaseURL: srv.URL, Path: "/redirect", Limit: 100})
	var pe *gateway.ProviderError
	if !errors.As(err, &pe) || pe.Location != "/auth" || hits.Load() != 1 {
		t.Errorf("redirect: %v, %d requests; want the 302 itself, one request", err, hits.Load())
	}
	base := strings.Replace(srv.URL, "http://", "http://user:pw@", 1)
	if ans, err = Do(context.Background(), follows, Request{Provider: "Peer", BaseURL: base, Path: "/auth", Limit: 100}); err != nil || string(ans.Body) != "user:pw" {
		t.Errorf("credentials in the URL: %q, %v; want user:pw", ans.Body, err)
	}
	if ans, err = Do(context.Background(), follows, Request{Provider: "Peer", BaseURL: srv.URL, Path: "/chunked", Limit: 3000}); err != nil || len(ans.Body) != 3000 {
		t.Errorf("an answer without a length: %d bytes, %v; want 3000", len(ans.Body), err)
	}
	if _, err = Do(context.Background(), follows, Request{Provider: "Peer", BaseURL: srv.URL, Path: "/chunked", Limit: 2999}); !errors.Is(err, gateway.ErrAnswerTooLarge) {
		t.Errorf("an answer without a length past the limit: %v; want ErrAnswerTooLarge", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, base := range []string{closed.URL, strings.Replace(closed.URL, "http://", "http://user:hunter2@", 1)} {
		_, err := Do(context.Background(), follows, Request{Provider: "Peer", BaseURL: base, Path: "/p", Limit: 10})
		if !errors.Is(err, gateway.ErrUnavailable) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v; want ErrUnavailable without the credentials", base, err)
		}
	}
}
