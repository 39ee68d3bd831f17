package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// The load generator is a lean HTTP/1.1 client, so that it is not what
// limits the side it drives: every request is prepared in full (request
// line, headers, Content-Length and body in one byte slice) before a load
// starts, written with one Write on a kept-alive connection, and its answer
// read by Content-Length (chunked answers are read too, more slowly). The
// gateway and the reverse proxy are driven by the same client.

// wireRequest is a Request prepared for the wire.
type wireRequest struct {
	addr string // host:port to dial
	raw  []byte // the whole request
	url  string // for error messages
}

// prepare renders r as one HTTP/1.1 POST with keep-alive.
func prepare(r *Request) (wireRequest, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return wireRequest{}, err
	}
	if u.Scheme != "http" {
		return wireRequest{}, fmt.Errorf("lean client: scheme %q, want http", u.Scheme)
	}
	path := u.RequestURI()
	var b bytes.Buffer
	b.Grow(len(r.Body) + 512)
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, u.Host, len(r.Body))
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return wireRequest{addr: u.Host, raw: b.Bytes(), url: r.URL}, nil
}

// leanConn is one kept-alive connection of one client to one address.
type leanConn struct {
	c  net.Conn
	br *bufio.Reader
}

// leanClient is one client's connections, one per address; not safe for
// concurrent use (each load goroutine has its own).
type leanClient struct {
	conns map[string]*leanConn
	buf   []byte // the answer body, reused
}

func newLeanClient() *leanClient { return &leanClient{conns: map[string]*leanConn{}} }

func (lc *leanClient) close() {
	for _, c := range lc.conns {
		_ = c.c.Close()
	}
}

// do sends w and reads the answer: its status and body (valid until the
// next call). A connection that fails or that the server closes is dialled
// again on the next call.
func (lc *leanClient) do(w *wireRequest) (int, []byte, error) {
	c := lc.conns[w.addr]
	fresh := false
	if c == nil {
		nc, err := net.DialTimeout("tcp", w.addr, 10*time.Second)
		if err != nil {
			return 0, nil, err
		}
		c = &leanConn{c: nc, br: bufio.NewReaderSize(nc, 64<<10)}
		lc.conns[w.addr] = c
		fresh = true
	}
	_ = c.c.SetDeadline(time.Now().Add(2 * time.Minute))
	status, body, keep, err := lc.roundTrip(c, w.raw)
	if err != nil && !fresh && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		// The server closed an idle connection: once more on a new one.
		_ = c.c.Close()
		delete(lc.conns, w.addr)
		return lc.do(w)
	}
	if err != nil || !keep {
		_ = c.c.Close()
		delete(lc.conns, w.addr)
	}
	return status, body, err
}

func (lc *leanClient) roundTrip(c *leanConn, raw []byte) (status int, body []byte, keep bool, err error) {
	if _, err := c.c.Write(raw); err != nil {
		return 0, nil, false, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("lean client: bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, fmt.Errorf("lean client: bad status line %q", line)
	}
	length, chunked := -1, false
	keep = true
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, nil, false, fmt.Errorf("lean client: bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			keep = !bytes.EqualFold(v, []byte("close"))
		}
	}
	lc.buf = lc.buf[:0]
	switch {
	case chunked:
		for {
			sz, err := c.br.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, err
			}
			sz, _, _ = bytes.Cut(bytes.TrimRight(sz, "\r\n"), []byte(";"))
			n, err := strconv.ParseInt(string(sz), 16, 64)
			if err != nil {
				return 0, nil, false, fmt.Errorf("lean client: bad chunk size %q", sz)
			}
			if n == 0 {
				// Trailers, then the blank line.
				for {
					t, err := c.br.ReadSlice('\n')
					if err != nil {
						return 0, nil, false, err
					}
					if len(bytes.TrimRight(t, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			lc.buf, err = readN(c.br, lc.buf, int(n))
			if err != nil {
				return 0, nil, false, err
			}
			if _, err := c.br.Discard(2); err != nil {
				return 0, nil, false, err
			}
		}
	case length >= 0:
		if lc.buf, err = readN(c.br, lc.buf, length); err != nil {
			return 0, nil, false, err
		}
	default:
		// No length: the body ends with the connection.
		rest, err := io.ReadAll(c.br)
		if err != nil {
			return 0, nil, false, err
		}
		lc.buf = append(lc.buf, rest...)
		keep = false
	}
	return status, lc.buf, keep, nil
}

// readN appends n bytes read from r to buf.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
	start := len(buf)
	buf = slices.Grow(buf, n)[:start+n]
	_, err := io.ReadFull(r, buf[start:])
	return buf, err
}

// cpuTime is the process's CPU time so far, user and system: the utime +
// stime of /proc/self/stat, read with getrusage at microsecond resolution.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
