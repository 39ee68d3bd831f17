package events

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// SecretPrefix starts every subscription secret.
const SecretPrefix = "whsec_"

// Signature errors.
var (
	// ErrBadSecret is returned by Verify for a secret that is not
	// "whsec_" followed by standard base64.
	ErrBadSecret = errors.New("events: malformed webhook secret")
	// ErrBadSignature is returned by Verify when no signature in the header
	// matches.
	ErrBadSignature = errors.New("events: webhook signature does not match")
)

// NewSecret returns a fresh subscription secret: "whsec_" followed by the
// standard base64 of 32 random bytes.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

func secretKey(secret string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok || rest == "" {
		return nil, false
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	return key, err == nil
}

// Sign returns the Standard Webhooks signature header value for a delivery:
// "v1," + base64(HMAC-SHA256(key, id + "." + ts + "." + body)), where key is
// the base64-decoded part of secret after "whsec_" and ts the unix seconds
// sent in webhook-timestamp. A malformed secret yields "" (secrets made by
// NewSecret never are).
func Sign(secret, id string, ts int64, body []byte) string {
	key, ok := secretKey(secret)
	if !ok {
		return ""
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, ts, body))
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(ts, 10)))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a webhook-signature header value, which may hold several
// space-separated "v1,<base64>" signatures (during secret rotation), against
// the delivery's id, timestamp and exact body bytes. It returns nil when one
// matches, ErrBadSecret for a malformed secret and ErrBadSignature otherwise
// (entries of other versions are ignored). It does not judge the timestamp's
// age: receivers should also refuse timestamps far from their clock.
func Verify(secret, id string, ts int64, body []byte, header string) error {
	key, ok := secretKey(secret)
	if !ok {
		return ErrBadSecret
	}
	want := mac(key, id, ts, body)
	for _, sig := range strings.Fields(header) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
