package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"crmgate/auth"
	"crmgate/fieldconfig"
	"crmgate/schema"
)

// FieldConfigs is what the field-configuration endpoints need: the current
// document from memory, and a versioned replace.
type FieldConfigs interface {
	Current(conn string) (fieldconfig.Versioned, bool)
	Put(ctx context.Context, conn string, cfg fieldconfig.Config, ifVersion int64) (fieldconfig.Versioned, error)
}

// FieldConfigRoutes registers GET and PUT /v1/connections/{id}/field-config.
func FieldConfigRoutes(fc FieldConfigs) func(*gin.Engine, *gin.RouterGroup, *Server) {
	return func(_ *gin.Engine, v1 *gin.RouterGroup, s *Server) {
		v1.GET("/connections/:id/field-config", func(c *gin.Context) { s.getFieldConfig(c, fc) })
		v1.PUT("/connections/:id/field-config", require(auth.ScopeAdmin), func(c *gin.Context) { s.putFieldConfig(c, fc) })
	}
}

func (s *Server) getFieldConfig(c *gin.Context, fc FieldConfigs) {
	conn, ok := s.Connection(c, c.Param("id"))
	if !ok {
		return
	}
	v, ok := fc.Current(conn.ID)
	if !ok {
		problem(c, http.StatusNotFound, ProblemNotFound, "no field configuration for "+quote(conn.ID))
		return
	}
	c.Header("ETag", etag(v.Version))
	c.JSON(http.StatusOK, v)
}

func (s *Server) putFieldConfig(c *gin.Context, fc FieldConfigs) {
	conn, ok := s.Connection(c, c.Param("id"))
	if !ok {
		return
	}
	var ifVersion int64
	if m := strings.TrimSpace(c.GetHeader("If-Match")); m != "" && m != "*" {
		n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil || n <= 0 {
			problem(c, http.StatusPreconditionFailed, ProblemPrecond, "If-Match must be the ETag of GET, e.g. \"3\"")
			return
		}
		ifVersion = n
	}
	var cfg fieldconfig.Config
	if !s.readJSON(c, &cfg) {
		return
	}
	if err := cfg.Validate(); err != nil {
		problem(c, http.StatusUnprocessableEntity, ProblemValidation, "the field configuration is not valid; nothing was changed", configIssues(err)...)
		return
	}
	v, err := fc.Put(c.Request.Context(), conn.ID, cfg, ifVersion)
	switch {
	case err == nil:
	case errors.Is(err, fieldconfig.ErrVersionMismatch):
		cur, _ := fc.Current(conn.ID)
		c.Header("ETag", etag(cur.Version))
		problem(c, http.StatusPreconditionFailed, ProblemPrecond, "If-Match is not the current version; GET it again and retry")
		return
	case errors.Is(err, fieldconfig.ErrInvalid):
		problem(c, http.StatusUnprocessableEntity, ProblemValidation, "the field configuration is not valid; nothing was changed", configIssues(err)...)
		return
	default:
		s.log.Error("field config put failed", "request_id", requestID(c), "connection", conn.ID, "err", err.Error())
		problem(c, http.StatusServiceUnavailable, ProblemUnavailable, "the field configuration store could not be reached; nothing was changed")
		return
	}
	c.Header("ETag", etag(v.Version))
	c.JSON(http.StatusOK, v)
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// configIssues lists the problems of an invalid field configuration, one
// issue per problem naming its key ("custom_fields[1].type").
func configIssues(err error) []schema.Issue {
	var ps fieldconfig.Problems
	if !errors.As(err, &ps) {
		return nil
	}
	out := make([]schema.Issue, len(ps))
	for i, p := range ps {
		out[i] = issue(schema.CodeInvalidValue, p.Key, p.Message)
	}
	return out
}
