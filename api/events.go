package api

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"crmgate/auth"
	"crmgate/events"
	"crmgate/gateway"
	"crmgate/schema"
)

// EventsOptions are what the webhook, event and subscription endpoints need.
type EventsOptions struct {
	Store         events.Store
	Subscriptions events.SubscriptionStore
	// Notify wakes delivery after new events were stored (may be nil).
	Notify func()
	// Destinations are where a subscription URL may lead (checked at
	// creation; the zero value refuses loopback and the other addresses it
	// documents).
	Destinations events.Destinations
	// Now is the clock for webhook timestamps (nil: time.Now).
	Now func() time.Time
}

// EventRoutes registers the provider webhooks (no JWT: the provider's own
// credential is verified), GET /v1/events and the subscription endpoints.
func EventRoutes(o EventsOptions) func(*gin.Engine, *gin.RouterGroup, *Server) {
	if o.Now == nil {
		o.Now = time.Now
	}
	return func(r *gin.Engine, v1 *gin.RouterGroup, s *Server) {
		h := &eventHandlers{EventsOptions: o, s: s}
		r.POST("/v1/webhooks/:provider/:connection", h.webhook)
		v1.GET("/events", require(auth.ScopeEventsRead), h.list)
		v1.POST("/subscriptions", require(auth.ScopeAdmin), h.createSubscription)
		v1.GET("/subscriptions", require(auth.ScopeAdmin), h.listSubscriptions)
		v1.DELETE("/subscriptions/:id", require(auth.ScopeAdmin), h.deleteSubscription)
		v1.GET("/subscriptions/:id/failures", require(auth.ScopeAdmin), h.failures)
		v1.POST("/subscriptions/:id/failures/:event/redeliver", require(auth.ScopeAdmin), h.redeliver)
	}
}

type eventHandlers struct {
	EventsOptions
	s *Server
}

// webhook verifies a provider's webhook, stores its events and only then
// answers what the provider expects. A body that fails verification is 401
// and stores nothing; one that cannot be read, 400.
func (h *eventHandlers) webhook(c *gin.Context) {
	conn, ok := h.s.conns[c.Param("connection")]
	var recv gateway.WebhookReceiver
	if ok {
		recv, ok = conn.Provider.(gateway.WebhookReceiver)
	}
	if !ok || conn.Common.Provider != c.Param("provider") {
		fail(c, refuse(kindNotFound, "no webhook endpoint for this provider and connection"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.s.opts.MaxBodyBytes))
	if err != nil {
		fail(c, readFailed("the webhook body", err))
		return
	}
	evs, err := recv.ReceiveWebhook(c.Request.Header, body, h.Now())
	if err != nil {
		outcome := "malformed"
		if errors.Is(err, gateway.ErrWebhookUnauthorized) {
			outcome = "refused"
		}
		h.s.metrics.webhooks.WithLabelValues(conn.ID, outcome).Inc()
		// The answer says only that it was refused; the reason is for
		// whoever configures the provider's side.
		h.s.log.Warn("webhook "+outcome, "request_id", requestID(c), "connection", conn.ID, "reason", err.Error())
		fail(c, err)
		return
	}
	added, err := h.Store.Append(c.Request.Context(), evs)
	if err != nil {
		// Not stored: the provider must send it again.
		h.s.metrics.webhooks.WithLabelValues(conn.ID, "not_stored").Inc()
		fail(c, storeFailed("the events could not be stored; send the webhook again", err))
		return
	}
	if added > 0 && h.Notify != nil {
		h.Notify()
	}
	h.s.metrics.webhooks.WithLabelValues(conn.ID, "stored").Inc()
	h.s.log.Info("webhook stored", "request_id", requestID(c), "connection", conn.ID, "events", len(evs), "added", added)
	c.Data(http.StatusOK, "application/json", recv.WebhookAnswer())
}

// EventPage is the answer of GET /v1/events.
type EventPage struct {
	Events []events.Event `json:"events"`
	// The position after the last event listed, or the after given when nothing is new; pass it as after to resume.
	NextCursor string `json:"next_cursor" example:"0000000000000042"`
} //	@name	EventPage

func (h *eventHandlers) list(c *gin.Context) {
	p := principal(c)
	q := events.Query{After: c.Query("after")}
	if !p.All() {
		q.Connections = append([]string{}, p.Connections...)
	}
	if id := c.Query("connection"); id != "" {
		conn, ok := h.s.Connection(c, id)
		if !ok {
			return
		}
		q.Connection = conn.ID
	}
	// 0: the store's default page.
	limit, err := pageLimit(c, 0, events.MaxLimit)
	if err != nil {
		fail(c, err)
		return
	}
	q.Limit = limit
	for _, t := range strings.Split(c.Query("type"), ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !slices.Contains(events.Types, t) {
			fail(c, refuse(kindInvalid, "unknown event type "+quote(t),
				issue(schema.CodeInvalidOption, "type", "type is one of "+strings.Join(events.Types, ", "))))
			return
		}
		q.Types = append(q.Types, t)
	}
	page, err := h.Store.List(c.Request.Context(), q)
	if err != nil {
		fail(c, storeFailed("the event store could not be reached", err))
		return
	}
	c.JSON(http.StatusOK, EventPage{Events: page.Events, NextCursor: page.NextCursor})
}

// SubscriptionRequest is the body of POST /v1/subscriptions.
type SubscriptionRequest struct {
	// Where events are POSTed (with Standard Webhooks headers).
	URL string `json:"url" validate:"required" format:"uri" example:"https://billing.internal.example/crm-events"`
	// Event types to deliver; empty or absent: every type.
	Types []string `json:"types" enums:"customer.updated,customer.followup_created"`
	// Connections whose events are delivered; empty or absent: every connection the token allows.
	Connections []string `json:"connections"`
} //	@name	SubscriptionRequest

// CreatedSubscription is the answer of POST /v1/subscriptions: the only
// time the signing secret is shown.
type CreatedSubscription struct {
	events.Subscription
	// The Standard Webhooks signing secret: whsec_ + base64 of 32 random bytes. Shown once.
	Secret string `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
} //	@name	CreatedSubscription

func (h *eventHandlers) createSubscription(c *gin.Context) {
	var req SubscriptionRequest
	if !h.s.readJSON(c, &req) {
		return
	}
	p := principal(c)
	for _, id := range req.Connections {
		if id == "" {
			continue // refused by the store, with the other problems of the body
		}
		// 403 for a connection the token is not allowed (whether or not it
		// exists), 404 for one it is allowed that does not exist (§2).
		if _, ok := h.s.Connection(c, id); !ok {
			return
		}
	}
	if len(req.Connections) == 0 && !p.All() {
		// An app limited to some connections subscribes to those only.
		req.Connections = append([]string{}, p.Connections...)
	}
	if err := h.Destinations.CheckURL(c.Request.Context(), req.URL); err != nil {
		fail(c, err)
		return
	}
	sub, secret, err := h.Subscriptions.Create(c.Request.Context(), events.Subscription{URL: req.URL, Types: req.Types, Connections: req.Connections})
	if err != nil {
		fail(c, storeFailed(detailSubscriptionStore, err))
		return
	}
	if h.Notify != nil {
		h.Notify()
	}
	c.Header("Location", "/v1/subscriptions/"+sub.ID)
	c.JSON(http.StatusCreated, CreatedSubscription{Subscription: sub, Secret: secret})
}

// sees reports whether p may see and change s. A token for every connection
// sees every subscription; any other token only those limited to connections
// it is allowed (one without connections delivers every connection's events,
// so it is outside every limited token's connections).
func sees(p *auth.Principal, s events.Subscription) bool {
	if p.All() {
		return true
	}
	if len(s.Connections) == 0 {
		return false
	}
	for _, id := range s.Connections {
		if !p.Allowed(id) {
			return false
		}
	}
	return true
}

// subscription answers 404 and returns false when the subscription named in
// the path does not exist or is outside the token's connections: the two are
// not told apart, so a token cannot learn that another tenant's exists.
func (h *eventHandlers) subscription(c *gin.Context) bool {
	sub, err := h.Subscriptions.Get(c.Request.Context(), c.Param("id"))
	if err == nil && !sees(principal(c), sub) {
		err = events.ErrNotFound
	}
	if err != nil {
		h.storeError(c, err)
		return false
	}
	return true
}

// SubscriptionList is the answer of GET /v1/subscriptions: every
// subscription within the token's connections (secrets are never shown
// again).
type SubscriptionList struct {
	Subscriptions []events.Subscription `json:"subscriptions"`
} //	@name	SubscriptionList

func (h *eventHandlers) listSubscriptions(c *gin.Context) {
	all, err := h.Subscriptions.List(c.Request.Context())
	if err != nil {
		h.storeError(c, err)
		return
	}
	p := principal(c)
	subs := []events.Subscription{}
	for _, s := range all {
		if sees(p, s) {
			subs = append(subs, s)
		}
	}
	c.JSON(http.StatusOK, SubscriptionList{Subscriptions: subs})
}

func (h *eventHandlers) deleteSubscription(c *gin.Context) {
	if !h.subscription(c) {
		return
	}
	if err := h.Subscriptions.Delete(c.Request.Context(), c.Param("id")); err != nil {
		h.storeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// DeliveryFailureList is the answer of GET /v1/subscriptions/{id}/failures.
type DeliveryFailureList struct {
	Failures []events.Failure `json:"failures"`
} //	@name	DeliveryFailureList

func (h *eventHandlers) failures(c *gin.Context) {
	if !h.subscription(c) {
		return
	}
	fs, err := h.Subscriptions.Failures(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.storeError(c, err)
		return
	}
	if fs == nil {
		fs = []events.Failure{}
	}
	c.JSON(http.StatusOK, DeliveryFailureList{Failures: fs})
}

// Queued is the answer of a redelivery request: the event is back in
// delivery.
type Queued struct {
	// Always queued.
	Status string `json:"status" enums:"queued" example:"queued"`
} //	@name	Queued

func (h *eventHandlers) redeliver(c *gin.Context) {
	if !h.subscription(c) {
		return
	}
	if err := h.Subscriptions.Redeliver(c.Request.Context(), c.Param("id"), c.Param("event")); err != nil {
		h.storeError(c, err)
		return
	}
	if h.Notify != nil {
		h.Notify()
	}
	c.JSON(http.StatusAccepted, Queued{Status: "queued"})
}

// detailSubscriptionStore is the detail of a subscription store that failed.
const detailSubscriptionStore = "the subscription store could not be reached"

// storeError answers an error of the subscription store (events.ErrNotFound
// among them).
func (h *eventHandlers) storeError(c *gin.Context, err error) {
	fail(c, storeFailed(detailSubscriptionStore, err))
}
