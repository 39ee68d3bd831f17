package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func claims(mutate func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "app", "iss": "crmgate", "aud": "crmgate", "exp": time.Now().Add(time.Hour).Unix(),
		"scope": "customers:write admin", "connections": []string{"a"}}
	if mutate != nil {
		mutate(c)
	}
	return c
}

func b64(i *big.Int) string { return base64.RawURLEncoding.EncodeToString(i.Bytes()) }

func TestJWKSPinsRS256AndES256(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "r1", "n": b64(rsaKey.N), "e": b64(big.NewInt(int64(rsaKey.E)))},
		{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(ecKey.X), "y": b64(ecKey.Y)},
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(set) }))
	defer srv.Close()
	v, err := NewVerifier(Options{JWKS: NewJWKS(srv.URL, srv.Client()), Issuer: "crmgate", Audience: "crmgate"})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, kid string, key any) string {
		tok := jwt.NewWithClaims(m, claims(nil))
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tok := range map[string]string{"RS256": sign(jwt.SigningMethodRS256, "r1", rsaKey), "ES256": sign(jwt.SigningMethodES256, "e1", ecKey)} {
		p, err := v.Verify(tok)
		if err != nil || p.Subject != "app" || !p.Has(ScopeAdmin) || !p.Allowed("a") || p.Allowed("b") {
			t.Errorf("%s: %+v %v", name, p, err)
		}
	}
	// The public key used as an HMAC secret (algorithm confusion) is refused.
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
	hs.Header["kid"] = "r1"
	forged, _ := hs.SignedString([]byte(b64(rsaKey.N)))
	if _, err := v.Verify(forged); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("HS256 against a JWKS verifier: %v", err)
	}
	if _, err := v.Verify(sign(jwt.SigningMethodRS256, "unknown", rsaKey)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("unknown kid: %v", err)
	}
}

func TestHS256Pinned(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, _ := NewVerifier(Options{HS256Secret: secret, Issuer: "crmgate", Audience: "crmgate"})
	hs384, _ := jwt.NewWithClaims(jwt.SigningMethodHS384, claims(nil)).SignedString(secret)
	if _, err := v.Verify(hs384); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("HS384 must be refused: %v", err)
	}
	noSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { delete(c, "sub") })).SignedString(secret)
	if _, err := v.Verify(noSub); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a token without sub must be refused: %v", err)
	}
	if _, err := NewVerifier(Options{Issuer: "crmgate"}); err == nil {
		t.Error("a verifier with no key must be refused")
	}
}

func ExampleMint() {
	tok, _ := Mint(MintOptions{Secret: []byte("0123456789abcdef0123456789abcdef"), Issuer: "crmgate", Audience: "crmgate",
		Subject: "billing-app", Scopes: []string{ScopeCustomersWrite}, Connections: []string{"acme-cdp"}, TTL: time.Hour})
	v, _ := NewVerifier(Options{HS256Secret: []byte("0123456789abcdef0123456789abcdef"), Issuer: "crmgate", Audience: "crmgate"})
	p, err := v.Verify(tok)
	fmt.Println(p.Subject, p.Has(ScopeCustomersWrite), p.Allowed("acme-cdp"), err)
	// Output: billing-app true true <nil>
}

// A remembered token still expires: the cache never outlives exp (+ leeway).
func TestVerifiedTokensExpireFromTheCache(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, _ := NewVerifier(Options{HS256Secret: secret, Issuer: "crmgate", Audience: "crmgate"})
	now := time.Now()
	v.now = func() time.Time { return now }
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Minute).Unix() })).SignedString(secret)
	p1, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p2, err := v.Verify(tok); err != nil || p2 != p1 {
		t.Fatalf("second check: %v %v (want the remembered principal)", p2, err)
	}
	now = now.Add(time.Minute + Leeway + time.Second)
	if _, err := v.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after exp + leeway: %v, want refused", err)
	}
	// A tampered token is not a cache hit.
	if _, err := v.Verify(tok[:len(tok)-2] + "xx"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("tampered: %v", err)
	}
}

// Dates are JSON numbers only, and a missing claim is named.
func TestClaimsRefusedWithTheirName(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, _ := NewVerifier(Options{HS256Secret: secret, Issuer: "crmgate", Audience: "crmgate"})
	far := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name   string
		mutate func(jwt.MapClaims)
		want   string
	}{
		{"quoted exp", func(c jwt.MapClaims) { c["exp"] = "9999999999" }, "exp must be a JSON number"},
		{"quoted nbf", func(c jwt.MapClaims) { c["nbf"] = "1" }, "nbf must be a JSON number"},
		{"quoted iat", func(c jwt.MapClaims) { c["iat"] = "1" }, "iat must be a JSON number"},
		{"exp an object", func(c jwt.MapClaims) { c["exp"] = map[string]int64{"n": far} }, "exp must be a JSON number"},
		{"exp null", func(c jwt.MapClaims) { c["exp"] = nil }, "exp must be a JSON number"},
		{"case variant of exp quoted", func(c jwt.MapClaims) { delete(c, "exp"); c["EXP"] = "9999999999" }, "EXP must be a JSON number"},
		{"no exp", func(c jwt.MapClaims) { delete(c, "exp") }, "a required claim (exp) is missing"},
		{"no iss", func(c jwt.MapClaims) { delete(c, "iss") }, "a required claim (iss) is missing"},
		{"no aud", func(c jwt.MapClaims) { delete(c, "aud") }, "a required claim (aud) is missing"},
		{"no iss, no aud", func(c jwt.MapClaims) { delete(c, "iss"); delete(c, "aud") }, "required claims (iss, aud) are missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(tt.mutate)).SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(tok)
			if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	// A numeric exp, also a fractional one, is accepted.
	for _, exp := range []any{far, float64(far) + 0.5} {
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(func(c jwt.MapClaims) { c["exp"] = exp })).SignedString(secret)
		if _, err := v.Verify(tok); err != nil {
			t.Errorf("exp %v: %v", exp, err)
		}
	}
}
