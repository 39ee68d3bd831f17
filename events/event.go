// Package events is crmgate's canonical event model: what provider webhooks
// become, what GET /v1/events lists and what subscriptions receive. It also
// keeps events (Store: in-process or Redis Streams), push subscriptions
// (SubscriptionStore), and delivers events to them signed per Standard
// Webhooks (Dispatcher).
package events

import (
	"encoding/json"
	"time"
)

// Event types.
const (
	TypeCustomerUpdated = "customer.updated"
	TypeFollowupCreated = "customer.followup_created"
	TypeImportCompleted = "import.completed"
	TypeImportCanceled  = "import.canceled"
	TypeImportFailed    = "import.failed"
)

// Types lists every event type.
var Types = []string{TypeCustomerUpdated, TypeFollowupCreated, TypeImportCompleted, TypeImportCanceled, TypeImportFailed}

// Event is the canonical event envelope.
type Event struct {
	// ID is the provider's item id, or one derived from the item's content
	// when the provider gives none; the same ID is stored once.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Connection string    `json:"connection"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
	// Customer is set on customer.* events (import.* events have none).
	Customer Customer  `json:"customer,omitzero"`
	Agent    string    `json:"agent,omitempty"`
	Change   *Change   `json:"change,omitempty"`
	Followup *Followup `json:"followup,omitempty"`
	// Job is the import job of an import.* event, as GET /v1/imports/{id}
	// shows it.
	Job json.RawMessage `json:"job,omitempty"`
} //	@name	Event

// Customer identifies the customer an event is about.
type Customer struct {
	WhatsApp string `json:"whatsapp"`
} //	@name	EventCustomer

// Change is one changed field of a customer.updated event, in canonical names
// and values. Custom is true for an extension field, which keeps its own name.
type Change struct {
	Field  string `json:"field"`
	Custom bool   `json:"custom"`
	From   any    `json:"from"`
	To     any    `json:"to"`
} //	@name	EventChange

// Followup is the body of a customer.followup_created event. When the
// provider's text could not be read as its documented JSON, Text holds the raw
// text and Raw is true.
type Followup struct {
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
	Raw         bool     `json:"raw,omitempty"`
} //	@name	EventFollowup
