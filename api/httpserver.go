package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// HTTPOptions bound what one client connection may take of the server.
type HTTPOptions struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// ErrorLog receives what net/http itself reports (nil: the log package).
	ErrorLog *log.Logger
}

// NewHTTPServer returns the server for h with o's limits. Serve it on
// ProblemListener(ln), so that a header over MaxHeaderBytes is answered with
// a problem document too.
func NewHTTPServer(h http.Handler, o HTTPOptions) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    o.MaxHeaderBytes,
		ErrorLog:          o.ErrorLog,
	}
}

// limitBody refuses a declared body over the limit at once, before any of it
// is read, and stops reading any other body at the limit: a handler reading
// past it gets an *http.MaxBytesError.
func (s *Server) limitBody(c *gin.Context) {
	if c.Request.URL.Path == importsPath && c.Request.Method == http.MethodPost {
		// Bounded by limits.max_upload_bytes instead (imports.go).
		c.Next()
		return
	}
	if c.Request.ContentLength > s.opts.MaxBodyBytes {
		// Do not wait for a body that will not be read.
		c.Header("Connection", "close")
		fail(c, overLimit(s.opts.MaxBodyBytes))
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	}
	c.Next()
}

// plain431 is what net/http writes, on the connection itself and before any
// handler runs, when a request's header is over http.Server.MaxHeaderBytes.
const plain431 = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large"

// ProblemListener wraps ln so that net/http's own answer to a header over
// the limit, which no handler sees, is the problem document every other
// refusal is. Nothing else written on its connections is changed.
func ProblemListener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{c}, nil
}

type problemConn struct{ net.Conn }

// Write replaces net/http's plain-text 431, written in one piece, with a
// problem document.
func (c problemConn) Write(p []byte) (int, error) {
	if len(p) == len(plain431) && string(p) == plain431 {
		if _, err := c.Conn.Write(headerTooLarge()); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite lets net/http half-close the connection after such an answer,
// as it does on a bare TCP connection.
func (c problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func headerTooLarge() []byte {
	id := newID()
	body, _ := json.Marshal(problemFor(refuse(kindHeaderTooLarge, "the request header is over the server's limit")).problem(id))
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\n%s: %s\r\nConnection: close\r\n\r\n",
		len(body), headerRequestID, id)
	b.Write(body)
	return b.Bytes()
}
