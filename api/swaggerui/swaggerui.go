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
	"compress/gzip"
	"embed"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed dist
var dist embed.FS

// Serve writes the file name (a file name without a folder, such as
// "swagger-ui-bundle.js") to w, compressed when the client accepts gzip and
// decompressed otherwise, with a Content-Type from its extension, and
// reports true; for a name that is not one of the files it writes nothing
// and reports false. The file is streamed from the binary, not copied.
func Serve(w http.ResponseWriter, r *http.Request, name string) bool {
	f, gzipped, ok := open(name)
	if !ok {
		return false
	}
	defer f.Close()
	h := w.Header()
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Cache-Control", "public, max-age=86400")
	if gzipped {
		h.Add("Vary", "Accept-Encoding")
	}
	var body io.Reader = f
	if gzipped && !acceptsGzip(r) {
		zr, err := gzip.NewReader(f)
		if err != nil {
			http.Error(w, "swagger ui file unreadable", http.StatusInternalServerError)
			return true
		}
		body = zr // its length is known only once decompressed
	} else {
		if gzipped {
			h.Set("Content-Encoding", "gzip")
		}
		if info, err := f.Stat(); err == nil {
			h.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
		}
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, body)
	}
	return true
}

// open opens the stored file of name, and says whether it is
// gzip-compressed.
func open(name string) (f fs.File, gzipped, ok bool) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, false, false
	}
	if f, err := dist.Open("dist/" + name + ".gz"); err == nil {
		return f, true, true
	}
	if f, err := dist.Open("dist/" + name); err == nil {
		return f, false, true
	}
	return nil, false, false
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
