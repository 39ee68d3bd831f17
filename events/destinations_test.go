package events

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"crmgate/internal/testutil"
)

// failuresOf waits until subID has n failures and returns them.
func failuresOf(t *testing.T, subs DeliveryStore, subID string, n int) []Failure {
	t.Helper()
	var fs []Failure
	testutil.Eventually(t, deliveryWait, "the failures", func() bool {
		var err error
		fs, err = subs.Failures(context.Background(), subID)
		return err == nil && len(fs) >= n
	})
	return fs
}

// createDirect stores a subscription to url without the creation-time
// check, as one stored before a DNS answer changed would be.
func createDirect(t *testing.T, subs DeliveryStore, url string) Subscription {
	t.Helper()
	s, _, err := subs.Create(context.Background(), Subscription{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A delivery whose dialled address is not allowed is refused by the dial
// hook, whatever the URL says: a literal loopback address, and a name that
// resolves to loopback at delivery time. Its failure says "address not
// allowed" and nothing reaches the receiver.
func TestDeliveryRefusedOnTheDialledAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		dest  Destinations
		host  func(port string) string
		allow bool
	}{
		{"loopback literal", Destinations{}, func(p string) string { return "127.0.0.1:" + p }, false},
		{"name resolving to loopback", Destinations{}, func(p string) string { return "localhost:" + p }, false},
		{"outside subscriber_networks", Destinations{AllowLoopback: true, Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
			func(p string) string { return "127.0.0.1:" + p }, false},
		{"within subscriber_networks", Destinations{AllowLoopback: true, Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
			func(p string) string { return "127.0.0.1:" + p }, true},
		{"loopback allowed", Destinations{AllowLoopback: true}, func(p string) string { return "localhost:" + p }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, subs := memoryBackend(t)
			r := newReceiver(t)
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(r.srv.URL, "http://"))
			created, secret, err := subs.Create(context.Background(), Subscription{URL: "http://" + tt.host(port) + "/hook"})
			if err != nil {
				t.Fatal(err)
			}
			r.mu.Lock()
			r.secret = secret
			r.mu.Unlock()
			opts := testDispatcherOptions()
			opts.Destinations = tt.dest
			d, _ := startDispatcher(t, s, subs, opts)
			appendIDs(t, s, "a", TypeCustomerUpdated, "e1")
			d.Notify()
			if tt.allow {
				testutil.Eventually(t, deliveryWait, "the delivery", func() bool { return len(r.deliveries()) == 1 })
				return
			}
			fs := failuresOf(t, subs, created.ID, 1)
			if fs[0].LastError != "address not allowed" || fs[0].LastStatus != 0 || fs[0].Attempts != 3 {
				t.Fatalf("failure %+v, want last_error %q after 3 attempts", fs[0], "address not allowed")
			}
			if got := r.deliveries(); len(got) != 0 {
				t.Fatalf("the receiver got %v", got)
			}
		})
	}
}

// What a failure says of a delivery that got no HTTP answer does not tell
// a closed port from one that hangs up: both are the same message. A 3xx is
// the answer (redirects are not followed), shown with its status.
func TestDeliveryFailuresTellNoScanner(t *testing.T) {
	t.Parallel()
	s, subs := memoryBackend(t)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/hook"
	_ = closed.Close() // connection refused from now on

	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // EOF for the client
		}
	}))
	t.Cleanup(hangUp.Close)

	target := newReceiver(t)
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.srv.URL+"/hook", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirect.Close)

	refused := createDirect(t, subs, closedURL)
	eof := createDirect(t, subs, hangUp.URL+"/hook")
	moved := createDirect(t, subs, redirect.URL+"/hook")
	d, _ := startDispatcher(t, s, subs, testDispatcherOptions())
	appendIDs(t, s, "a", TypeCustomerUpdated, "e1")
	d.Notify()

	fr, fe, fm := failuresOf(t, subs, refused.ID, 1)[0], failuresOf(t, subs, eof.ID, 1)[0], failuresOf(t, subs, moved.ID, 1)[0]
	if fr.LastError != fe.LastError || fr.LastError != errNoAnswer.Error() || fr.LastStatus != 0 || fe.LastStatus != 0 {
		t.Errorf("connection refused: %q (%d); hung up: %q (%d); want both %q", fr.LastError, fr.LastStatus, fe.LastError, fe.LastStatus, errNoAnswer)
	}
	if fm.LastError != "HTTP 307" || fm.LastStatus != http.StatusTemporaryRedirect {
		t.Errorf("redirect: %q (%d), want HTTP 307", fm.LastError, fm.LastStatus)
	}
	if got := target.deliveries(); len(got) != 0 {
		t.Errorf("the redirect was followed: the target got %v", got)
	}
}

// fakeResolver answers from a table; a missing host does not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	res := fakeResolver{
		"hooks.internal":  {"10.1.2.3"},
		"mixed.internal":  {"10.1.2.3", "127.0.0.1"},
		"meta.internal":   {"169.254.169.254"},
		"v6.internal":     {"fd00::1"},
		"mapped.internal": {"::ffff:127.0.0.1"},
	}
	d := Destinations{Resolver: res}
	for _, tt := range []struct {
		url  string
		want string // "" = allowed, else a part of the reason
	}{
		{"http://hooks.internal/x", ""},
		{"https://10.0.0.7:8443/x", ""},
		{"http://[fd00::1]/x", ""},
		{"http://v6.internal/x", ""},
		{"http://192.168.1.5:6379/", ""}, // private networks stay allowed
		{"http://127.0.0.1/x", "loopback"},
		{"http://127.0.0.2:6379/x", "loopback"},
		{"http://[::1]/x", "loopback"},
		{"http://[::ffff:127.0.0.1]/x", "loopback"},
		{"http://[::ffff:7f00:1]/x", "loopback"},
		{"http://mapped.internal/x", "loopback"},
		{"http://localhost:8080/x", "loopback name"},
		{"http://LocalHost./x", "loopback name"},
		{"http://api.localhost/x", "loopback name"},
		{"http://mixed.internal/x", "resolves to a loopback"},
		{"http://0x7f000001/x", "non-standard form"},
		{"http://127.1/x", "non-standard form"},
		{"http://2130706433/x", "non-standard form"},
		{"http://0177.0.0.1/x", "non-standard form"},
		{"http://169.254.169.254/latest/meta-data/", "link-local"},
		{"http://meta.internal/x", "link-local"},
		{"http://[fe80::1%25eth0]/x", "link-local"},
		{"http://0.0.0.0/x", "unspecified"},
		{"http://[::]/x", "unspecified"},
		{"http://0.1.2.3/x", "unspecified"},
		{"http://224.0.0.1/x", "multicast"},
		{"http://[ff02::1]/x", "multicast"},
		{"http://255.255.255.255/x", "broadcast"},
		{"http://[::127.0.0.1]/x", "IPv4-compatible"},
		{"http://user:pass@hooks.internal/x", "userinfo"},
		{"http://user@hooks.internal/x", "userinfo"},
		{"ftp://hooks.internal/x", "not an absolute http(s) URL"},
		{"gopher://hooks.internal/x", "not an absolute http(s) URL"},
		{"/relative", "not an absolute http(s) URL"},
		{"", "required"},
		{"http://nowhere.internal/x", "does not resolve"},
		{"http://hooks.internal:99999/x", "port"},
	} {
		err := d.CheckURL(context.Background(), tt.url)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want allowed", tt.url, err)
		case tt.want != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want ErrInvalid saying %q", tt.url, err, tt.want)
		case tt.want != "":
			if ps := (Problems{}); !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != "url" || !strings.Contains(ps[0].Message, tt.want) {
				t.Errorf("%s: problems %+v, want one on url saying %q", tt.url, ps, tt.want)
			}
		}
	}

	// allow_loopback lets loopback through, nothing else.
	lo := Destinations{Resolver: res, AllowLoopback: true}
	for _, u := range []string{"http://127.0.0.1:9/x", "http://[::1]/x", "http://mixed.internal/x", "http://localhost/x"} {
		if u == "http://localhost/x" {
			lo.Resolver = fakeResolver{"localhost": {"127.0.0.1", "::1"}}
		}
		if err := lo.CheckURL(context.Background(), u); err != nil {
			t.Errorf("allow_loopback: %s: %v", u, err)
		}
	}
	if err := lo.CheckURL(context.Background(), "http://169.254.169.254/"); err == nil {
		t.Error("allow_loopback let link-local through")
	}

	// subscriber_networks narrows.
	n := Destinations{Resolver: res, Networks: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	if err := n.CheckURL(context.Background(), "http://hooks.internal/x"); err != nil {
		t.Errorf("within subscriber_networks: %v", err)
	}
	if err := n.CheckURL(context.Background(), "http://10.2.0.1/x"); err == nil || !strings.Contains(err.Error(), "subscriber_networks") {
		t.Errorf("outside subscriber_networks: %v", err)
	}
}
