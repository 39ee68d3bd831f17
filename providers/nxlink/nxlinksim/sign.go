package nxlinksim

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
)

// requiredHeaders are the document's required headers.
var requiredHeaders = []string{"accessKey", "ts", "bizType", "action", "sign"}

// signedString is what the document's common conventions sign: "all required
// headers except sign" as name=value, sorted by name in ASCII order and
// joined by "&";
// then "&body=" and the exact body bytes, left out when the body is empty;
// then "&accessSecret=" and the account's secret.
func signedString(h http.Header, body []byte, accessSecret string) []byte {
	var b bytes.Buffer
	for _, name := range slices.Sorted(slices.Values(requiredHeaders)) {
		if name == "sign" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name + "=" + h.Get(name))
	}
	if len(body) > 0 {
		b.WriteString("&body=")
		b.Write(body)
	}
	b.WriteString("&accessSecret=" + accessSecret)
	return b.Bytes()
}

// signature is the sign a call must carry: the lowercase hex md5 of
// signedString, or its SHA-256 when algorithm is "sha256" (the optional
// algorithm header). Other algorithms are refused before this is asked.
func signature(algorithm string, h http.Header, body []byte, accessSecret string) string {
	s := signedString(h, body, accessSecret)
	if algorithm == "sha256" {
		sum := sha256.Sum256(s)
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum(s)
	return hex.EncodeToString(sum[:])
}
