package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"crmgate/api/answer"
	"crmgate/auth"
	"crmgate/gateway"
	"crmgate/history"
	"crmgate/schema"
)

// HistoryPage is the answer of GET /v1/customers/history.
type HistoryPage struct {
	History []history.Entry `json:"history"`
	// NextCursor is given back as cursor for the next (older) page; "" when
	// nothing older is left.
	NextCursor string `json:"next_cursor"`
} //	@name	HistoryPage

// historyRoutes registers GET /v1/requests/{request_id} and
// GET /v1/customers/history when a history store is configured.
func (s *Server) historyRoutes(v1 *gin.RouterGroup) {
	if s.opts.History == nil {
		return
	}
	v1.GET("/requests/:request_id", require(auth.ScopeCustomersRead), s.getRequest)
	v1.GET("/customers/history", require(auth.ScopeCustomersRead), s.customerHistory)
}

// keepHistory stores a processed import's answer, as written (body), and
// the history entry of each of its records: one store round trip, made
// before the answer is written, even when the caller went away (the store
// bounds its own wait: history.PutTimeout). A store that fails is logged;
// the answer stands.
func (s *Server) keepHistory(c *gin.Context, conn *gateway.Connection, req *ImportRequest, decoded []schema.Customer, ans *answer.Answer, body []byte) {
	if s.opts.History == nil {
		return
	}
	recs := make([]history.Record, len(ans.Results))
	for i, r := range ans.Results {
		rec := history.Record{Ref: r.Ref, Index: r.Index, Status: string(r.Status), Errors: r.Errors, ProviderID: r.ProviderID}
		var whatsapp string
		if decoded != nil && i < len(decoded) {
			whatsapp = decoded[i].WhatsApp
			if whatsapp != "" && !hasIssue(r.Errors, schema.CodeInvalidPhone, schema.FieldWhatsApp) {
				// The record's check normalised it in place (in the
				// request's region): no second pass through the phone
				// library.
				rec.WhatsApp, whatsapp = whatsapp, ""
			}
		} else if i < len(req.Customers) {
			whatsapp, rec.Ref = rawIdentity(req.Customers[i], rec.Ref)
		}
		if whatsapp != "" {
			rec.WhatsApp, _ = history.NormalizeWhatsApp(whatsapp)
		}
		recs[i] = rec
	}
	err := s.opts.History.Put(context.WithoutCancel(c.Request.Context()), history.Import{
		App: principal(c).Subject, Connection: conn.ID, RequestID: ans.RequestID,
		Answer: body, ContentType: c.Writer.Header().Get("Content-Type"), Records: recs,
	})
	if err != nil {
		s.log.Error("history not kept: the request and its records' history cannot be looked up",
			"request_id", ans.RequestID, "connection", conn.ID, "records", len(recs), "error", err.Error())
	}
}

// hasIssue reports whether issues hold one of code on field.
func hasIssue(issues []schema.Issue, code schema.Code, field string) bool {
	for _, is := range issues {
		if is.Code == code && is.Field == field {
			return true
		}
	}
	return false
}

// rawIdentity reads the whatsapp and ref of a record left raw (one the
// strict decoder refused): whatever of them is a JSON string.
func rawIdentity(raw json.RawMessage, ref string) (string, string) {
	var id struct {
		WhatsApp json.RawMessage `json:"whatsapp"`
		Ref      json.RawMessage `json:"ref"`
	}
	if json.Unmarshal(raw, &id) != nil {
		return "", ref
	}
	var w, r string
	_ = json.Unmarshal(id.WhatsApp, &w)
	if ref == "" && json.Unmarshal(id.Ref, &r) == nil {
		ref = r
	}
	return w, ref
}

// getRequest answers GET /v1/requests/{request_id}: the stored answer, byte
// for byte, to the app that made the request or to admin, within the
// token's connections; 404 otherwise (unknown, expired or another app's
// alike, so that ids cannot be probed).
func (s *Server) getRequest(c *gin.Context) {
	id := c.Param("request_id")
	p := principal(c)
	a, err := s.opts.History.Answer(c.Request.Context(), id)
	if err != nil {
		fail(c, storeFailed(detailHistoryStore, err))
		return
	}
	if (a.App != p.Subject && !p.Has(auth.ScopeAdmin)) || !p.Allowed(a.Connection) {
		// Another app's answers are none, so that ids cannot be probed.
		fail(c, history.ErrNotFound)
		return
	}
	c.Data(http.StatusOK, a.ContentType, a.Body)
}

// customerHistory answers GET /v1/customers/history.
func (s *Server) customerHistory(c *gin.Context) {
	conn, ok := s.Connection(c, c.Query("connection"))
	if !ok {
		return
	}
	cust := history.Customer{Connection: conn.ID}
	whatsapp, ref := c.Query("whatsapp"), c.Query("ref")
	switch {
	case whatsapp != "" && ref != "":
		fail(c, refuse(kindInvalid, "give whatsapp or ref, not both",
			issue(schema.CodeInvalidValue, "ref", "name the customer by whatsapp or by ref")))
		return
	case whatsapp != "":
		d, ok := history.NormalizeWhatsApp(whatsapp)
		if !ok {
			fail(c, refuse(kindInvalid, "whatsapp is not a phone number",
				issue(schema.CodeInvalidPhone, "whatsapp", "a phone number, as in a record (+86 152 6666 7780 or 8615266667780)")))
			return
		}
		cust.WhatsApp = d
	case ref != "":
		cust.Ref = ref
	default:
		fail(c, refuse(kindInvalid, "whatsapp or ref is required",
			issue(schema.CodeRequired, "whatsapp", "name the customer by whatsapp or by ref")))
		return
	}
	limit, err := pageLimit(c, defaultPage, maxPage)
	if err != nil {
		fail(c, err)
		return
	}
	entries, err := s.opts.History.History(c.Request.Context(), cust)
	if err != nil {
		fail(c, storeFailed(detailHistoryStore, err))
		return
	}
	p := principal(c)
	list, next, err := history.Page(entries, p.Subject, p.Has(auth.ScopeAdmin), c.Query("cursor"), limit)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, HistoryPage{History: list, NextCursor: next})
}

// detailHistoryStore is the detail of a history store that failed.
const detailHistoryStore = "the history could not be read; retry later"
