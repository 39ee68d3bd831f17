// Package swaggerui holds the static files of Swagger UI 4.15.5 that the
// page gin-swagger renders loads (the bundle, the standalone preset, the
// stylesheet, the OAuth2 redirect page and the icons), embedded and served
// as they are stored: the text files gzip-compressed.
//
// These are the files github.com/swaggo/files v1.0.1 ships, without it: that
// package copies all of its files, source maps included, into an in-memory
// file system when the program starts, about 20 MB of resident memory for a
// page that is seldom opened. Embedded files stay in the binary's read-only
// data and are read only when served. To refresh them, take the same names
// from a Swagger UI dist folder and store each text file with gzip -9n.
package swaggerui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed dist
var dist embed.FS

// Has reports whether name (a file name without a folder, such as
// "swagger-ui-bundle.js") is one of the files served here.
func Has(name string) bool {
	_, _, ok := open(name)
	return ok
}

// open returns the stored bytes of name and whether they are gzip-compressed.
func open(name string) (data []byte, gzipped, ok bool) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, false, false
	}
	if b, err := dist.ReadFile("dist/" + name + ".gz"); err == nil {
		return b, true, true
	}
	if b, err := dist.ReadFile("dist/" + name); err == nil {
		return b, false, true
	}
	return nil, false, false
}

// Serve writes the file name to w, compressed when the client accepts gzip
// and decompressed otherwise, with a Content-Type from its extension. It
// answers 404 for a name that is not one of the files.
func Serve(w http.ResponseWriter, r *http.Request, name string) {
	data, gzipped, ok := open(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Cache-Control", "public, max-age=86400")
	if gzipped {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
		} else {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				http.Error(w, "swagger ui file unreadable", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				_, _ = io.Copy(w, zr)
			}
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip with
// a quality above zero.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.TrimSpace(params)
			if rest, found := strings.CutPrefix(q, "q="); found {
				if f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil && f == 0 {
					return false
				}
			}
			return true
		}
	}
	return false
}
