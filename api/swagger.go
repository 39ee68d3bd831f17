package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
	ginswagger "github.com/swaggo/gin-swagger"
	"golang.org/x/net/webdav"

	"crmgate/api/swaggerui"
)

// OpenAPIPath is where the OpenAPI 3 document is served.
const OpenAPIPath = "/openapi.yaml"

// docsRoutes serves the API's own documentation: GET /openapi.yaml (doc, the
// OpenAPI 3 document, application/yaml) and the Swagger UI under
// /swagger/ (index.html and its assets), which loads that document and keeps
// the bearer token entered with "Authorize" across reloads. /swagger/ and
// /swagger redirect to /swagger/index.html. Neither needs a token.
//
// gin-swagger renders the page (index.html, index.css,
// swagger-initializer.js); the files it loads come from package swaggerui,
// so gin-swagger is given an empty file system.
func (s *Server) docsRoutes(r *gin.Engine, doc []byte) {
	r.GET(OpenAPIPath, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/yaml", doc)
	})
	none := &webdav.Handler{FileSystem: webdav.NewMemFS(), LockSystem: webdav.NewMemLS()}
	ui := ginswagger.WrapHandler(none,
		ginswagger.URL(OpenAPIPath),
		ginswagger.PersistAuthorization(true),
		ginswagger.DefaultModelsExpandDepth(1),
		ginswagger.DocExpansion("list"),
	)
	r.GET("/swagger", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/swagger/index.html") })
	r.GET("/swagger/*any", func(c *gin.Context) {
		p := c.Param("any")
		if p == "/" || p == "" {
			c.Redirect(http.StatusMovedPermanently, "/swagger/index.html")
			return
		}
		if !swaggerui.Serve(c.Writer, c.Request, p[1:]) {
			ui(c)
		}
	})
}
