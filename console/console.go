// Package console serves the operations console of gateway.md §9: a web page
// embedded in the binary that works only through the public API, with the
// same bearer token and scopes as any other caller.
package console

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net"
	"net/http"
	"strings"

	"crmgate/schema"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every console answer: nothing but the
// gateway's own origin; no inline script or style, no frames, no plug-ins.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configure the console.
type Options struct {
	// DevToken, when set (sandbox mode only), is offered by GET
	// /console/dev-token to loopback clients.
	DevToken string
}

// Handler serves the console under /console/: its files, fields.json (the
// canonical field names, for the column mapping) and, in sandbox mode,
// dev-token.
func Handler(o Options) http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/console/", http.FileServerFS(sub))
	fields := fieldsJSON()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/console":
			http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
		case "/console/dev-token":
			// Only in sandbox mode, and only to a client on this machine:
			// the address the connection came from, never a header.
			if o.DevToken == "" || !loopback(r.RemoteAddr) {
				http.NotFound(w, r)
				return
			}
			h.Set("Cache-Control", "no-store")
			h.Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"token": o.DevToken})
		case "/console/fields.json":
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(fields)
		default:
			if strings.HasSuffix(r.URL.Path, "/") && r.URL.Path != "/console/" {
				http.NotFound(w, r)
				return
			}
			h.Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		}
	})
}

// loopback reports whether a RemoteAddr is a loopback address.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fieldsJSON lists the canonical fields a column can be mapped to (custom
// fields come from each connection's capabilities).
func fieldsJSON() []byte {
	var names []string
	for _, f := range schema.Fields {
		if f != schema.FieldCustomFields {
			names = append(names, f)
		}
	}
	b, _ := json.Marshal(map[string][]string{"fields": names})
	return b
}
