// Package httpcall is the one HTTP call every adapter makes to its
// provider: the request sent within the caller's deadline, the status read
// into the gateway's error kinds, and the answer read within a bound. The
// adapters differ in headers and in how they read a body; what a status
// means is decided here, once.
package httpcall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"crmgate/gateway"
)

// ErrorAnswerBytes is how much of an answer with a 5xx or 429 status is
// read: it is only for the message.
const ErrorAnswerBytes = 4 << 10

// Request is one call to a provider.
type Request struct {
	Provider string      // the provider's name as users know it ("WSCRM"), for messages
	Method   string      // "" means POST
	BaseURL  string      // the connection's base URL, without a trailing slash
	Path     string      // the provider path
	Header   http.Header // sent as given: keys are not canonicalised
	Body     []byte
	Limit    int64 // the most bytes of an answer read (see Do)
}

// Answer is what the provider answered.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r with hc within ctx and reads the answer. hc must not follow
// redirects (gateway.NoRedirect).
//
//   - No answer (a transport error, a timeout, ctx done): an error wrapping
//     gateway.ErrUnavailable whose message holds neither the URL nor its
//     query (a base URL may carry credentials).
//   - HTTP 5xx or 429: a retryable *gateway.ProviderError whose message is
//     the start of the body, wrapped by gateway.WithRetryAfter (a
//     *gateway.RetryAfterError when the answer says when to retry).
//   - HTTP 3xx: a final *gateway.ProviderError with the Location it pointed
//     to. The records were sent; whether they were stored is unknown.
//   - Another non-2xx status: the Answer (at most r.Limit bytes) and a final
//     *gateway.ProviderError; the caller may still read a provider code from
//     the body.
//   - 2xx: the Answer. A body longer than r.Limit is an error wrapping
//     gateway.ErrAnswerTooLarge (reading stops there); one that cannot be
//     read to its end, an error wrapping gateway.ErrUnavailable.
func Do(ctx context.Context, hc *http.Client, r Request) (Answer, error) {
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.BaseURL+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return Answer{}, fmt.Errorf("%s %s: %w", r.Provider, r.Path, scrubURL(err))
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := send(hc, req)
	if err != nil {
		return Answer{}, fmt.Errorf("%w: %s %s: %w", gateway.ErrUnavailable, r.Provider, r.Path, scrubURL(err))
	}
	defer resp.Body.Close()
	ans := Answer{Status: resp.StatusCode, Header: resp.Header}
	pe := &gateway.ProviderError{Provider: r.Provider, Path: r.Path, Status: resp.StatusCode}
	switch s := resp.StatusCode; {
	case s >= 500 || s == http.StatusTooManyRequests:
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, ErrorAnswerBytes))
		pe.Message, pe.Retryable = Snippet(raw), true
		return ans, gateway.WithRetryAfter(pe, s, resp.Header, time.Now())
	case gateway.IsRedirect(s):
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, ErrorAnswerBytes))
		pe.Location = gateway.RedirectLocation(resp)
		return ans, pe
	}
	ans.Body, err = readAnswer(resp, r.Limit)
	switch {
	case errors.Is(err, gateway.ErrAnswerTooLarge):
		return ans, fmt.Errorf("%s %s: %w", r.Provider, r.Path, err)
	case err != nil:
		return ans, fmt.Errorf("%w: %s %s: reading the answer: %v", gateway.ErrUnavailable, r.Provider, r.Path, err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		pe.Message = Snippet(ans.Body)
		return ans, pe
	}
	return ans, nil
}

// send is hc.Do(req) for a client that does no more than hand req to its
// transport: no cookie jar, no client timeout, no credentials in the URL.
// Do's client follows no redirect, so that Client.Do would only add its
// redirect bookkeeping (a copy of the headers, a cancel timer); such a
// request goes to the transport directly. Any other client does its work.
func send(hc *http.Client, req *http.Request) (*http.Response, error) {
	if hc.Jar != nil || hc.Timeout != 0 || req.URL.User != nil {
		return hc.Do(req)
	}
	t := hc.Transport
	if t == nil {
		t = http.DefaultTransport
	}
	return t.RoundTrip(req)
}

// readAnswer is gateway.ReadAnswer, into one allocation of the answer's
// length when the provider gave it (net/http holds the body to it).
func readAnswer(resp *http.Response, limit int64) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > limit {
		return gateway.ReadAnswer(resp.Body, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return nil, err
	}
	return b, nil
}

// Snippet is the start of an answer, for messages: trimmed, at most 200
// bytes, "…" where it was cut.
func Snippet(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// scrubURL drops the URL from a *url.Error: base URLs may carry credentials.
func scrubURL(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok && ue.Err != nil {
		return ue.Err
	}
	return err
}
