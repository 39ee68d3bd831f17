package api

import (
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
		fail(c, refuse(kindUnauthorized, "an Authorization: Bearer <JWT> header is required"))
		return
	}
	p, err := s.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		// Every refusal wraps auth.ErrInvalidToken.
		fail(c, err)
		return
	}
	c.Set(ctxPrincipal, p)
	c.Next()
}

// require checks the caller holds scope: 403 otherwise.
func require(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !principal(c).Has(scope) {
			fail(c, refuse(kindForbidden, "the token lacks the scope "+scope))
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
