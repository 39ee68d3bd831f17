package wscrmsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/internal/httpcall"
	"crmgate/providers/internal/simserve"
	"crmgate/providers/internal/wirejson"
	"crmgate/sandbox"
	"crmgate/schema"
)

// DefaultAgent is the agent (userName) of a simulated change that names
// none, when the sender has no agent of its own.
const DefaultAgent = "sandbox-agent"

// sandboxUserID is the agent id (userId) a simulated follow-up carries.
const sandboxUserID = 1

// SenderConfig is whose webhooks a WebhookSender sends and how it signs
// them (providers.md, "Webhooks WSCRM sends").
type SenderConfig struct {
	// TenantID is the body's tenantId.
	TenantID int64
	// Token is the accessToken of a connection verifying static tokens.
	Token string
	// HMACSecret, when set, signs every body instead: the accessToken is the
	// lowercase hex HMAC-SHA256(HMACSecret, tenantId + "." + timestamp).
	HMACSecret string
	// Agent is the userName of a change that names none; DefaultAgent when
	// empty.
	Agent string
	// Location is the zone updateAt is written in (it carries none); UTC when
	// nil.
	Location *time.Location
}

// WebhookSender is the sandbox simulator's webhook side: it plays an agent
// changing a customer in WSCRM's client and sends the webhook WSCRM would
// send, as the provider document shows it, to the gateway. It implements
// sandbox.ChangeSimulator.
type WebhookSender struct {
	cfg    SenderConfig
	target string
	hc     *http.Client

	now   func() time.Time // the clock; time.Now unless a test sets it
	newID func() string    // a fresh 32-hex item id
}

var _ sandbox.ChangeSimulator = (*WebhookSender)(nil)

// NewWebhookSender returns a sender that posts cfg's webhooks to target (the
// gateway's POST /v1/webhooks/wscrm/{connection} URL) with hc
// (http.DefaultClient when nil).
func NewWebhookSender(cfg SenderConfig, target string, hc *http.Client) *WebhookSender {
	if hc == nil {
		hc = http.DefaultClient
	}
	if cfg.Agent == "" {
		cfg.Agent = DefaultAgent
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &WebhookSender{cfg: cfg, target: target, hc: hc, now: time.Now,
		newID: func() string { return simserve.RandomHex(16) }}
}

// change is the body of POST /v1/sandbox/{connection}/changes: either field
// and to (a profile update), or followup (a follow-up written). Its comments
// and tags are what openapi.yaml says of the body.
type change struct {
	// The customer's WhatsApp number (need not exist).
	WhatsApp string `json:"whatsapp" validate:"required" example:"8615601882491"`
	// The field that changed: a canonical field (address, gender, birthday, tags, remarks, stage, …), WSCRM's own label for it as its webhook writes it (Address, Gender, DOB, Position, …), or a custom field configured for the connection (by name or WSCRM key). Anything else is a 422 listing what is accepted.
	Field string `json:"field" example:"address"`
	// The value before the change, in canonical form (gender male, birthday YYYY-MM-DD, tags an array); optional.
	From json.RawMessage `json:"from"`
	// The value after the change, in canonical form.
	To json.RawMessage `json:"to"`
	// The agent who made the change (default: the sandbox's first agent).
	Agent string `json:"agent" example:"kubrick101"`
	// A follow-up text, instead of field and to.
	Followup *string `json:"followup" example:"Beautiful China"`
} //	@name	SandboxChange

// The two webhooks' bodies, keys in the provider document's order.
type (
	profileWebhook struct {
		AccessToken string        `json:"accessToken"`
		TenantID    int64         `json:"tenantId"`
		Timestamp   int64         `json:"timestamp"`
		Data        []profileItem `json:"data"`
	}
	profileItem struct {
		ID            string `json:"id"`
		Type          int    `json:"type"`
		UserName      string `json:"userName"`
		FriendWhatsID string `json:"friendWhatsId"`
		Field         string `json:"field"`
		FieldType     int    `json:"fieldType"`
		FieldConfig   int    `json:"fieldConfig"`
		SourceValue   string `json:"sourceValue"`
		TargetValue   string `json:"targetValue"`
		UpdateAt      string `json:"updateAt"`
	}
	followWebhook struct {
		AccessToken string       `json:"accessToken"`
		CallBackURL string       `json:"callBackUrl"`
		TenantID    int64        `json:"tenantId"`
		Timestamp   int64        `json:"timestamp"`
		Data        []followItem `json:"data"`
	}
	followItem struct {
		FriendWhatsID string `json:"friendWhatsId"`
		UserID        int    `json:"userId"`
		TenantID      int64  `json:"tenantId"`
		Follow        string `json:"follow"`
		Username      string `json:"username"`
	}
	// followText is a follow-up's text as the webhooks carry it.
	followText struct {
		Data struct {
			Text string   `json:"text"`
			URL  []string `json:"url"`
		} `json:"data"`
	}
)

// SimulateChange sends the webhook for one change:
// {"whatsapp", "field", "to", "from"?, "agent"?} becomes a profile-update
// webhook with one type-1 item, {"whatsapp", "followup", "agent"?} a follow-up
// webhook with one item. field is a canonical name or WSCRM's own label for
// it, as its webhook writes it ("address" or "Address"; gender takes male,
// female or unknown; birthday YYYY-MM-DD; tags an array of strings), or a
// custom field of rules, by its name or its WSCRM key: an extension field
// (fieldType 1, sent under its WSCRM key) whose fieldConfig is the custom
// field's type.
//
// A field that is none of these is a *sandbox.ChangeFieldError listing what
// is accepted. Other input that cannot be sent (bad JSON, unknown keys, no
// whatsapp, both or neither of field and followup, no to, a value of the
// wrong kind) is a *sandbox.ChangeError, which wraps sandbox.ErrBadChange.
// In both cases nothing is sent. Otherwise the error is nil only when the gateway answered HTTP 200
// with code 200; no answer at all is an error wrapping
// gateway.ErrUnavailable.
func (s *WebhookSender) SimulateChange(ctx context.Context, raw json.RawMessage, rules *fieldconfig.Rules) error {
	body, err := s.build(raw, rules)
	if err != nil {
		return err
	}
	return s.post(ctx, body)
}

// build returns the webhook body for a change.
func (s *WebhookSender) build(raw json.RawMessage, rules *fieldconfig.Rules) ([]byte, error) {
	var c change
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, &sandbox.ChangeError{Reason: "the body must be one JSON object of whatsapp, field, from, to, agent and followup"}
	}
	if d.More() {
		return nil, &sandbox.ChangeError{Reason: "more than one JSON value"}
	}
	whats, ok := schema.Digits(c.WhatsApp)
	if !ok {
		return nil, &sandbox.ChangeError{Reason: "whatsapp: required, a phone number in digits"}
	}
	agent := strings.TrimSpace(c.Agent)
	if agent == "" {
		agent = s.cfg.Agent
	}
	now := s.now()
	ts := now.UnixMilli()
	token := s.cfg.Token
	if s.cfg.HMACSecret != "" {
		token = signature(s.cfg.HMACSecret, s.cfg.TenantID, ts)
	}

	hasField := strings.TrimSpace(c.Field) != ""
	switch {
	case hasField && c.Followup != nil:
		return nil, &sandbox.ChangeError{Reason: "give either field and to, or followup, not both"}
	case c.Followup != nil:
		var f followText
		f.Data.Text, f.Data.URL = *c.Followup, []string{}
		follow, err := wirejson.Marshal(f)
		if err != nil {
			return nil, err
		}
		return wirejson.Marshal(followWebhook{
			AccessToken: token,
			TenantID:    s.cfg.TenantID,
			Timestamp:   ts,
			Data: []followItem{{
				FriendWhatsID: whats,
				UserID:        sandboxUserID,
				TenantID:      s.cfg.TenantID,
				Follow:        string(follow),
				Username:      agent,
			}},
		})
	case !hasField:
		return nil, &sandbox.ChangeError{Reason: "field (with to) or followup is required"}
	}

	if len(bytes.TrimSpace(c.To)) == 0 {
		return nil, &sandbox.ChangeError{Reason: "to: required"}
	}
	item, err := changedItem(strings.TrimSpace(c.Field), rules, c.From, c.To)
	var fe *sandbox.ChangeFieldError
	if errors.As(err, &fe) {
		return nil, err
	}
	if err != nil {
		return nil, &sandbox.ChangeError{Reason: err.Error()}
	}
	item.ID = s.newID()
	item.Type = itemProfileUpdate
	item.UserName = agent
	item.FriendWhatsID = whats
	item.UpdateAt = now.In(s.cfg.Location).Format(layoutUpdateAt)
	return wirejson.Marshal(profileWebhook{
		AccessToken: token,
		TenantID:    s.cfg.TenantID,
		Timestamp:   ts,
		Data:        []profileItem{item},
	})
}

// signature is the accessToken of a signed body.
func signature(secret string, tenant, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%d", tenant, ts)
	return hex.EncodeToString(m.Sum(nil))
}

// post sends one webhook body and checks the answer.
func (s *WebhookSender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("the webhook cannot be sent: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: the webhook did not reach the gateway: %v", gateway.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("reading the webhook's answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the webhook was answered HTTP %d: %s", resp.StatusCode, httpcall.Snippet(answer))
	}
	var a struct {
		Code wirejson.Text `json:"code"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return fmt.Errorf("the webhook answer is not JSON: %s", httpcall.Snippet(answer))
	}
	if code, ok := a.Code.Int64(); !ok || code != CodeOK {
		return fmt.Errorf("the webhook was answered code %s, not 200: %s", a.Code, httpcall.Snippet(answer))
	}
	return nil
}
