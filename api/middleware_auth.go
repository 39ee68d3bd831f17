package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"crmgate/auth"
)

const ctxPrincipal = "crmgate.principal"

// authenticate requires a valid bearer token: 401 otherwise.
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		problem(c, http.StatusUnauthorized, ProblemUnauth, "an Authorization: Bearer <JWT> header is required")
		return
	}
	p, err := s.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		detail := "the token was refused"
		if errors.Is(err, auth.ErrInvalidToken) {
			detail = err.Error()
		}
		problem(c, http.StatusUnauthorized, ProblemUnauth, detail)
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// require checks the caller holds scope: 403 otherwise.
func require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Has(scope) {
			problem(c, http.StatusForbidden, ProblemForbidden, "the token lacks the scope "+scope)
			return
		}
		c.Next()
	}
}

func principal(c *gin.Context) *auth.Principal {
	p, _ := c.Get(ctxPrincipal)
	if pp, ok := p.(*auth.Principal); ok {
		return pp
	}
	return &auth.Principal{}
}
