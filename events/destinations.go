package events

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrAddressNotAllowed is the error of a delivery whose dialled address the
// Destinations refuse. It is also the whole of what a Failure's LastError
// says about it.
var ErrAddressNotAllowed = errors.New("address not allowed")

// Resolver looks up a host's addresses (*net.Resolver is one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// resolveTimeout bounds the look-up of a subscription URL's host at creation.
const resolveTimeout = 5 * time.Second

// Destinations are the addresses subscriptions may be delivered to.
// Subscribers are internal apps, so private networks are allowed; loopback,
// link-local (169.254.0.0/16 and fe80::/10, the cloud metadata address among
// them), unspecified, multicast and broadcast addresses never are, except
// loopback when AllowLoopback is set. The zero value is that policy with the
// system resolver.
//
// It is applied twice: CheckURL at creation (every address the host resolves
// to), and Control on the address actually dialled at delivery, so that
// neither an odd spelling nor a DNS answer that changed since creation gets
// through.
type Destinations struct {
	// AllowLoopback allows 127.0.0.0/8 and ::1 (a gateway and its
	// subscribers on one host, the sandbox, tests).
	AllowLoopback bool
	// Networks, when not empty, narrows destinations to addresses within
	// them (the refusals above still apply).
	Networks []netip.Prefix
	// Resolver looks host names up in CheckURL; nil means net.DefaultResolver.
	Resolver Resolver
}

// refusal says why ip is not allowed, or "" when it is.
func (d Destinations) refusal(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.IsUnspecified() || (ip.Is4() && ip.As4()[0] == 0):
		return "an unspecified address"
	case ip.IsLoopback():
		if !d.AllowLoopback {
			return "a loopback address"
		}
	case ip.IsLinkLocalUnicast():
		return "a link-local address (the cloud metadata address among them)"
	case ip.IsMulticast() || ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a broadcast address"
	case ip.Is6() && isIPv4Compatible(ip):
		return "an IPv4-compatible IPv6 address"
	}
	if len(d.Networks) > 0 {
		for _, n := range d.Networks {
			if n.Contains(ip) {
				return ""
			}
		}
		return "outside events.subscriber_networks"
	}
	return ""
}

// isIPv4Compatible reports ::a.b.c.d (deprecated; :: and ::1 are told apart
// before).
func isIPv4Compatible(ip netip.Addr) bool {
	b := ip.As16()
	for _, x := range b[:12] {
		if x != 0 {
			return false
		}
	}
	return true
}

// CheckURL refuses, with an error wrapping ErrInvalid and the Problems (one,
// on url) that say why, a subscription URL that is not absolute http(s), has
// userinfo, a bad port, a host written as a number in a form other than a
// dotted quad (127.1, 0x7f000001), a host that does not resolve, or one any
// of whose addresses is not allowed.
func (d Destinations) CheckURL(ctx context.Context, raw string) error {
	bad := func(format string, a ...any) error {
		var ps Problems
		ps.Add("url", format, a...)
		return invalid(ps)
	}
	if raw == "" {
		return bad("required")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("%q is not an absolute http(s) URL", raw)
	}
	if u.User != nil {
		return bad("userinfo (user:password@) is not allowed in a subscription URL; deliveries are signed instead")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("port %q is not 1 to 65535", p)
		}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return bad("%q has no host", raw)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := d.refusal(ip); why != "" {
			return bad("%s is %s, which is not allowed", host, why)
		}
		return nil
	}
	if numericHost(host) {
		return bad("host %q is a number in a non-standard form; write an IP address as a dotted quad", host)
	}
	if (host == "localhost" || strings.HasSuffix(host, ".localhost")) && !d.AllowLoopback {
		return bad("host %q is a loopback name, which is not allowed", host)
	}
	r := d.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return bad("host %q does not resolve", host)
	}
	for _, ip := range addrs {
		if why := d.refusal(ip); why != "" {
			return bad("host %q resolves to %s, which is not allowed", host, why)
		}
	}
	return nil
}

// numericHost reports a host that C's inet_aton would read as an IPv4
// address although it is not a dotted quad: one to four dot-separated
// numbers, each decimal, octal (leading 0) or hex (0x).
func numericHost(h string) bool {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		digits, base := p, 10
		switch {
		case strings.HasPrefix(p, "0x"):
			digits, base = p[2:], 16
		case len(p) > 1 && p[0] == '0':
			digits, base = p[1:], 8
		}
		if digits == "" {
			if base != 16 {
				return false
			}
			continue
		}
		if _, err := strconv.ParseUint(digits, base, 64); err != nil {
			return false
		}
	}
	return true
}

// Control is a net.Dialer Control hook: it refuses, with an error wrapping
// ErrAddressNotAllowed, to connect to an address that is not allowed.
func (d Destinations) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%s: %w", address, ErrAddressNotAllowed)
	}
	if d.refusal(ap.Addr()) != "" {
		return fmt.Errorf("%s: %w", address, ErrAddressNotAllowed)
	}
	return nil
}

// Client is an HTTP client for deliveries: every connection it opens goes
// through Control, it uses no proxy (the proxy's address, not the
// subscriber's, would be the one checked) and it follows no redirect (a 3xx
// answer is the delivery's answer).
func (d Destinations) Client() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: d.Control}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
