package swaggerui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// get serves name as a request would, answering 404 as the route's next
// handler would for a name that is not one of the files.
func get(t *testing.T, method, name, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "/swagger/"+name, nil)
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	w := httptest.NewRecorder()
	if !Serve(w, r, name) {
		if len(w.Header()) != 0 || w.Body.Len() != 0 {
			t.Errorf("%q: not served, yet %d header keys and %d bytes were written", name, len(w.Header()), w.Body.Len())
		}
		w.Code = http.StatusNotFound
	}
	return w
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServeCompressedOrPlain(t *testing.T) {
	zipped := get(t, http.MethodGet, "swagger-ui-bundle.js", "gzip, deflate, br")
	if zipped.Code != http.StatusOK || zipped.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("with gzip accepted: %d, Content-Encoding %q", zipped.Code, zipped.Header().Get("Content-Encoding"))
	}
	if !strings.HasPrefix(zipped.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("Content-Type %q", zipped.Header().Get("Content-Type"))
	}
	plain := get(t, http.MethodGet, "swagger-ui-bundle.js", "")
	if plain.Code != http.StatusOK || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("without Accept-Encoding: %d, Content-Encoding %q", plain.Code, plain.Header().Get("Content-Encoding"))
	}
	if !bytes.Equal(gunzip(t, zipped.Body.Bytes()), plain.Body.Bytes()) {
		t.Error("the compressed and the plain answers differ")
	}
	if !bytes.Contains(plain.Body.Bytes(), []byte("SwaggerUIBundle")) {
		t.Error("the bundle does not define SwaggerUIBundle")
	}
	refused := get(t, http.MethodGet, "swagger-ui.css", "identity, gzip;q=0")
	if refused.Header().Get("Content-Encoding") != "" || !bytes.Contains(refused.Body.Bytes(), []byte(".swagger-ui")) {
		t.Errorf("gzip;q=0 still got Content-Encoding %q", refused.Header().Get("Content-Encoding"))
	}
}

func TestServeIconsAndMissing(t *testing.T) {
	icon := get(t, http.MethodGet, "favicon-32x32.png", "gzip")
	if icon.Code != http.StatusOK || icon.Header().Get("Content-Encoding") != "" || icon.Header().Get("Content-Type") != "image/png" {
		t.Errorf("icon: %d %q %q", icon.Code, icon.Header().Get("Content-Encoding"), icon.Header().Get("Content-Type"))
	}
	if !bytes.HasPrefix(icon.Body.Bytes(), []byte("\x89PNG")) {
		t.Error("the icon is not a PNG")
	}
	head := get(t, http.MethodHead, "swagger-ui-standalone-preset.js", "gzip")
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
	for _, name := range []string{"nope.js", "../swaggerui.go", "dist/NOTICE", "", "NOTICE"} {
		if w := get(t, http.MethodGet, name, ""); w.Code != http.StatusNotFound {
			t.Errorf("%q: %d", name, w.Code)
		}
	}
}
