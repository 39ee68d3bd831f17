// Package auth validates and mints the JWTs internal apps send: the algorithm
// is pinned (HS256 with the configured secret, or RS256/ES256 from a JWKS URL),
// exp is required, iss and aud are checked, and 30 s of clock leeway allowed.
package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Scopes.
const (
	ScopeCustomersWrite = "customers:write"
	ScopeCustomersRead  = "customers:read"
	ScopeEventsRead     = "events:read"
	ScopeAdmin          = "admin"
)

// Scopes lists every scope.
var Scopes = []string{ScopeCustomersWrite, ScopeCustomersRead, ScopeEventsRead, ScopeAdmin}

// AllConnections in the connections claim allows every connection.
const AllConnections = "*"

// Leeway is the clock skew allowed on exp, nbf and iat.
const Leeway = 30 * time.Second

// Claims are crmgate's JWT claims.
type Claims struct {
	jwt.RegisteredClaims
	Scope       string   `json:"scope"`
	Connections []string `json:"connections"`
}

// UnmarshalJSON decodes the claims, refusing a date (exp, nbf, iat, in any
// spelling of its case) that is not a JSON number: a NumericDate is seconds
// since the epoch, never a string that looks like one.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		for _, date := range []string{"exp", "nbf", "iat"} {
			if strings.EqualFold(k, date) && !isJSONNumber(v) {
				return &DateError{Claim: k}
			}
		}
	}
	type plain Claims
	return json.Unmarshal(b, (*plain)(c))
}

// DateError is a date claim that is not a JSON number.
type DateError struct{ Claim string }

func (e *DateError) Error() string {
	return fmt.Sprintf("%s must be a JSON number (seconds since the epoch)", e.Claim)
}

func isJSONNumber(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

// Principal is an authenticated caller.
type Principal struct {
	Subject     string
	Scopes      []string
	Connections []string
}

// Has reports whether the caller holds scope.
func (p *Principal) Has(scope string) bool { return slices.Contains(p.Scopes, scope) }

// All reports whether the caller may use every connection.
func (p *Principal) All() bool { return slices.Contains(p.Connections, AllConnections) }

// Allowed reports whether the caller may use the connection id.
func (p *Principal) Allowed(id string) bool { return p.All() || slices.Contains(p.Connections, id) }

// ErrInvalidToken wraps every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

// Verifier checks tokens. A token verified once is remembered until it
// expires (at most cacheSize of them), so an app that sends the same token
// with every request pays for the signature check once.
type Verifier struct {
	parser   *jwt.Parser
	keyfunc  jwt.Keyfunc
	now      func() time.Time
	issuer   string
	audience string

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	p   *Principal
	exp time.Time
}

const cacheSize = 10000

// Options configure a Verifier: exactly one of HS256Secret and JWKS.
type Options struct {
	HS256Secret []byte
	JWKS        *JWKS
	Issuer      string
	Audience    string
}

// NewVerifier returns a Verifier pinned to HS256 (with a secret) or to
// RS256/ES256 (with a JWKS). It refuses options with neither or both.
func NewVerifier(o Options) (*Verifier, error) {
	if (len(o.HS256Secret) == 0) == (o.JWKS == nil) {
		return nil, errors.New("auth.NewVerifier: exactly one of an HS256 secret and a JWKS is required")
	}
	opts := []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audience),
		jwt.WithLeeway(Leeway),
		jwt.WithIssuedAt(),
	}
	v := &Verifier{now: time.Now, cache: map[string]cached{}, issuer: o.Issuer, audience: o.Audience}
	opts = append(opts, jwt.WithTimeFunc(func() time.Time { return v.now() }))
	if o.JWKS != nil {
		opts = append(opts, jwt.WithValidMethods([]string{"RS256", "ES256"}))
		v.keyfunc = o.JWKS.Keyfunc
	} else {
		secret := o.HS256Secret
		opts = append(opts, jwt.WithValidMethods([]string{"HS256"}))
		v.keyfunc = func(*jwt.Token) (any, error) { return secret, nil }
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks a compact token and returns its caller. Every refusal wraps
// ErrInvalidToken with the reason (never the token or a key).
func (v *Verifier) Verify(token string) (*Principal, error) {
	now := v.now()
	v.mu.Lock()
	hit, ok := v.cache[token]
	v.mu.Unlock()
	if ok && now.Before(hit.exp.Add(Leeway)) {
		return hit.p, nil
	}
	var c Claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.keyfunc); err != nil {
		if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
			return nil, fmt.Errorf("%w: %s", ErrInvalidToken, v.missing(&c))
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, reason(err))
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: sub is required", ErrInvalidToken)
	}
	p := &Principal{Subject: c.Subject, Scopes: strings.Fields(c.Scope), Connections: c.Connections}
	// Only a token valid from now on is remembered (not one before its nbf).
	if c.NotBefore == nil || !now.Before(c.NotBefore.Time) {
		v.mu.Lock()
		if len(v.cache) >= cacheSize {
			clear(v.cache)
		}
		v.cache[token] = cached{p: p, exp: c.ExpiresAt.Time}
		v.mu.Unlock()
	}
	return p, nil
}

// missing names the required claims c lacks.
func (v *Verifier) missing(c *Claims) string {
	var names []string
	if c.ExpiresAt == nil {
		names = append(names, "exp")
	}
	if v.issuer != "" && c.Issuer == "" {
		names = append(names, "iss")
	}
	if v.audience != "" && len(c.Audience) == 0 {
		names = append(names, "aud")
	}
	switch len(names) {
	case 0:
		return "a required claim is missing"
	case 1:
		return "a required claim (" + names[0] + ") is missing"
	}
	return "required claims (" + strings.Join(names, ", ") + ") are missing"
}

func reason(err error) string {
	var de *DateError
	switch {
	case errors.As(err, &de):
		return "token malformed: " + de.Error()
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrSignatureInvalid):
		return "token cannot be verified (algorithm or key not accepted)"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token malformed"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token not valid yet"
	}
	return "token rejected"
}

// MintOptions describe a token to mint.
type MintOptions struct {
	Secret      []byte
	Issuer      string
	Audience    string
	Subject     string
	Scopes      []string
	Connections []string
	TTL         time.Duration
	Now         time.Time // zero: time.Now()
}

// Mint signs an HS256 token. It refuses an empty secret or subject and a
// non-positive TTL.
func Mint(o MintOptions) (string, error) {
	if len(o.Secret) == 0 || o.Subject == "" || o.TTL <= 0 {
		return "", errors.New("auth.Mint: secret, subject and a positive ttl are required")
	}
	for _, s := range o.Scopes {
		if !slices.Contains(Scopes, s) {
			return "", fmt.Errorf("auth.Mint: unknown scope %q (one of %s)", s, strings.Join(Scopes, ", "))
		}
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   o.Subject,
			Issuer:    o.Issuer,
			Audience:  jwt.ClaimStrings{o.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(o.TTL)),
		},
		Scope:       strings.Join(o.Scopes, " "),
		Connections: o.Connections,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(o.Secret)
}
