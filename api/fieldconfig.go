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
		fail(c, fieldconfig.ErrNotFound)
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
			fail(c, refuse(kindPrecondition, "If-Match must be the ETag of GET, e.g. \"3\""))
			return
		}
		ifVersion = n
	}
	var cfg fieldconfig.Config
	if !s.readJSON(c, &cfg) {
		return
	}
	if err := cfg.Validate(); err != nil {
		fail(c, err)
		return
	}
	v, err := fc.Put(c.Request.Context(), conn.ID, cfg, ifVersion)
	if err != nil {
		if errors.Is(err, fieldconfig.ErrVersionMismatch) {
			// The 412 names the current version.
			cur, _ := fc.Current(conn.ID)
			c.Header("ETag", etag(cur.Version))
		}
		fail(c, storeFailed("the field configuration store could not be reached; nothing was changed", err))
		return
	}
	c.Header("ETag", etag(v.Version))
	c.JSON(http.StatusOK, v)
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }
