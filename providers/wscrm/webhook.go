package wscrm

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"crmgate/events"
	"crmgate/gateway"
	"crmgate/providers/internal/wirejson"
	"crmgate/schema"
)

// updateAtLayout is how WSCRM writes a profile change's updateAt (no zone:
// read in Config.Location()).
const updateAtLayout = "2006-01-02 15:04:05"

// Item kinds of a profile-update (USER_SYNC_PORTRAIT) webhook.
const (
	itemProfileUpdate   = 1 // a field of the customer's profile changed
	itemFollowupWritten = 2 // an agent wrote a follow-up record
)

// fieldType values of a profile-update item.
const (
	fieldTypeBasic     = 0
	fieldTypeExtension = 1
)

// fieldConfig values of a profile-update item (the value's kind: 1
// single-line, 2 multi-line, 3 single-select, 4 multi-select, 5 number, 6
// date, 7 time, 8 attachment) that change how a value is read.
const (
	fieldConfigMultiSelect = 4
	fieldConfigAttachment  = 8
)

// webhookAck is what WSCRM expects back once a webhook's events are stored.
type webhookAck struct {
	Code    int    `json:"code" validate:"required" example:"200"`
	Message string `json:"message" validate:"required" example:"Success"`
	Data    string `json:"data" validate:"required" example:""`
} //	@name	WSCRMWebhookAnswer

// webhookAnswer is the body WSCRM expects once a webhook's events are
// stored: {"code":200,"message":"Success","data":""}.
var webhookAnswer = mustJSON(webhookAck{Code: 200, Message: "Success"})

// webhookReceiver turns the webhooks WSCRM sends to one connection into
// canonical events.
type webhookReceiver struct {
	cfg  *Config
	conn string         // the connection id the events carry
	loc  *time.Location // cfg.Location(), resolved once
}

// newWebhookReceiver returns the receiver of connection conn. cfg must not be
// nil.
func newWebhookReceiver(conn string, cfg *Config) *webhookReceiver {
	return &webhookReceiver{cfg: cfg, conn: conn, loc: cfg.Location()}
}

// webhookBody is the envelope both WSCRM webhooks share. Fields are kept raw
// so that a missing one is told apart from a zero one. Its comments and tags
// are what openapi.yaml says of the body (the body's shape is the provider's:
// see the provider document).
type webhookBody struct {
	// The provider's signature token: compared with webhook.token (mode static) or lowercase hex HMAC-SHA256(webhook.secret, tenantId + "." + timestamp) (mode hmac).
	AccessToken *string `json:"accessToken" validate:"required" example:"83293d01dddd628e3b457142f8a48a0cf4dae3b587e7febea7effea6bdcfd344"`
	// Must be the connection's tenant_id: an integer, or a string holding one.
	TenantID wirejson.Text `json:"tenantId" validate:"required"`
	// Milliseconds since the epoch (an integer, or a string holding one), within webhook.tolerance (default 5 min) of the gateway's clock.
	Timestamp wirejson.Text `json:"timestamp" validate:"required"`
	// Follow-up webhooks only; unused by the gateway.
	CallBackURL *string `json:"callBackUrl"`
	// The changes: profile-update items (USER_SYNC_PORTRAIT, with id and type) or follow-up items (USER_WRITE_FLOW, with follow).
	Data []json.RawMessage `json:"data" validate:"required"`
} //	@name	WSCRMWebhook

// webhookItem is the union of the two webhooks' items: a profile-update item
// has id/type/field, a follow-up item has follow. Values typed int in the
// provider document's tables and string in its examples are read as either.
type webhookItem struct {
	// Profile update (USER_SYNC_PORTRAIT).

	// Profile update: unique per change (uuid); the same id is stored once (an item without one gets an id derived from its content).
	ID *string `json:"id" example:"a0cb1ad15ed24e618b4b12d9cdff1ad4"`
	// Profile update: 1 profile update, 2 follow-up written.
	Type wirejson.Text `json:"type"`
	// Profile update: the agent's login account.
	UserName wirejson.Text `json:"userName"`
	// The customer's WhatsApp id.
	FriendWhatsID wirejson.Text `json:"friendWhatsId"`
	// Profile update: Name, Gender, DOB, Address, Email, Position, Income, Description, From, State, Language, Tags, or an extension field's own name.
	Field wirejson.Text `json:"field"`
	// Profile update: 0 basic field, 1 extension field.
	FieldType wirejson.Text `json:"fieldType"`
	// Profile update: 1 single-line, 2 multi-line, 3 single-select, 4 multi-select, 5 number, 6 date, 7 time, 8 attachment.
	FieldConfig wirejson.Text `json:"fieldConfig"`
	// Profile update: the value before (a string; an array for Tags and multi-select).
	SourceValue wirejson.Text `json:"sourceValue"`
	// Profile update: the value after (a string; an array for Tags and multi-select; for type 2 a JSON string {"data":{"text":…,"url":[…]},"dataTypeMap":{…}}).
	TargetValue wirejson.Text `json:"targetValue"`
	// Profile update: yyyy-MM-dd HH:mm:ss in the connection's provider_time_zone.
	UpdateAt wirejson.Text `json:"updateAt"`

	// Follow-up (USER_WRITE_FLOW).

	// Follow-up: a JSON string {"data":{"text":…,"url":[…]}}; text that is not such JSON is kept raw, never dropped.
	Follow *wirejson.Text `json:"follow"`
	// Follow-up: the agent's user id.
	UserID wirejson.Text `json:"userId"`
	// Follow-up: the agent's login account.
	Username wirejson.Text `json:"username"`
	// Follow-up: not checked and not part of the item's derived id (the provider document's example carries ones that differ from the body's).
	TenantID json.RawMessage `json:"tenantId"`
} //	@name	WSCRMWebhookItem

// receive verifies one webhook body and returns its events, each with
// ReceivedAt now. The header is not used: WSCRM signs in the body.
//
// The body is malformed (gateway.ErrWebhookMalformed) when it is not a JSON
// object, lacks accessToken, tenantId, timestamp or data, or holds an item that
// is neither a profile-update item (id, type 1 or 2) nor a follow-up item
// (follow). It is unauthorized (gateway.ErrWebhookUnauthorized) when the
// accessToken does not verify per Config.Webhook, its tenantId is not
// Config.TenantID, or its timestamp is further than the tolerance from now in
// either direction; a connection without a static token (or hmac secret)
// refuses every webhook. Verification comes before the items are read.
//
// Profile-update items become customer.updated events (type 1) or
// customer.followup_created events (type 2) with the item's id. Follow-up items
// become customer.followup_created events whose id is derived from the
// connection, the body's timestamp and the item's friendWhatsId, userId,
// username and follow: the item's own tenantId is ignored (the provider
// document's example carries ones that differ from the body's), so items that
// differ only there are one follow-up. Events with the same id within one body
// are returned once, the first kept.
func (r *webhookReceiver) receive(_ http.Header, body []byte, now time.Time) ([]events.Event, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("wscrm webhook: %w: %v", gateway.ErrWebhookMalformed, err)
	}
	var missing []string
	if b.AccessToken == nil {
		missing = append(missing, "accessToken")
	}
	tenant, okTenant := b.TenantID.Int64()
	if !okTenant {
		missing = append(missing, "tenantId")
	}
	ts, okTS := b.Timestamp.Int64()
	if !okTS {
		missing = append(missing, "timestamp")
	}
	if b.Data == nil {
		missing = append(missing, "data")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("wscrm webhook: %w: missing or not an integer: %s",
			gateway.ErrWebhookMalformed, strings.Join(missing, ", "))
	}
	if err := r.verify(*b.AccessToken, tenant, ts, now); err != nil {
		return nil, err
	}

	out := make([]events.Event, 0, len(b.Data))
	seen := make(map[string]bool, len(b.Data))
	for i, raw := range b.Data {
		ev, err := r.item(raw, ts, now)
		if err != nil {
			return nil, fmt.Errorf("wscrm webhook: %w: data[%d]: %v", gateway.ErrWebhookMalformed, i, err)
		}
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		out = append(out, ev)
	}
	return out, nil
}

// verify checks the accessToken, the tenant and the clock. Its errors wrap
// gateway.ErrWebhookUnauthorized and name the failed check, never a secret or
// the token received.
func (r *webhookReceiver) verify(token string, tenant, ts int64, now time.Time) error {
	w := r.cfg.Webhook
	switch w.Mode {
	case "", WebhookStatic:
		want := w.Token.Reveal()
		if want == "" {
			return fmt.Errorf("wscrm webhook: %w: no webhook token is configured for connection %s", gateway.ErrWebhookUnauthorized, r.conn)
		}
		if !equalSecret(token, want) {
			return fmt.Errorf("wscrm webhook: %w: accessToken does not match the configured token", gateway.ErrWebhookUnauthorized)
		}
	case WebhookHMAC:
		secret := w.Secret.Reveal()
		if secret == "" {
			return fmt.Errorf("wscrm webhook: %w: no webhook secret is configured for connection %s", gateway.ErrWebhookUnauthorized, r.conn)
		}
		if !equalSecret(token, webhookHMAC(secret, tenant, ts)) {
			return fmt.Errorf("wscrm webhook: %w: accessToken is not the HMAC-SHA256 of tenantId.timestamp", gateway.ErrWebhookUnauthorized)
		}
	default:
		return fmt.Errorf("wscrm webhook: %w: webhook.mode %q is not static or hmac", gateway.ErrWebhookUnauthorized, w.Mode)
	}
	if tenant != r.cfg.TenantID {
		return fmt.Errorf("wscrm webhook: %w: tenantId %d is not the connection's tenant", gateway.ErrWebhookUnauthorized, tenant)
	}
	sent := time.UnixMilli(ts)
	tol := r.cfg.tolerance()
	if d := now.Sub(sent); d > tol || d < -tol {
		return fmt.Errorf("wscrm webhook: %w: timestamp %d is %s from now, more than the %s tolerated",
			gateway.ErrWebhookUnauthorized, ts, d.Round(time.Second), tol)
	}
	return nil
}

// equalSecret compares two strings in constant time, including their
// lengths (both are hashed first).
func equalSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// webhookHMAC is the accessToken of mode hmac: lowercase hex
// HMAC-SHA256(secret, tenantId + "." + timestamp), both in decimal.
func webhookHMAC(secret string, tenant, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(tenant, 10) + "." + strconv.FormatInt(ts, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// item turns one data item into its event. ts is the body's timestamp (ms).
func (r *webhookReceiver) item(raw json.RawMessage, ts int64, now time.Time) (events.Event, error) {
	var it webhookItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return events.Event{}, err
	}
	switch {
	case it.Follow != nil:
		return r.followItem(&it, ts, now), nil
	case it.ID != nil || it.Type != "":
		return r.profileItem(&it, raw, ts, now)
	default:
		return events.Event{}, fmt.Errorf("neither a profile-update item (id, type) nor a follow-up item (follow)")
	}
}

// profileItem turns a USER_SYNC_PORTRAIT item into a customer.updated or
// customer.followup_created event. An item without an id gets one derived from
// its content; an updateAt that cannot be read falls back to the body's
// timestamp.
func (r *webhookReceiver) profileItem(it *webhookItem, raw json.RawMessage, ts int64, now time.Time) (events.Event, error) {
	kind, ok := it.Type.Int64()
	if !ok || (kind != itemProfileUpdate && kind != itemFollowupWritten) {
		return events.Event{}, fmt.Errorf("type %s is not 1 (profile update) or 2 (follow-up written)", it.Type)
	}
	loc := r.loc
	occurred, err := time.ParseInLocation(updateAtLayout, strings.TrimSpace(string(it.UpdateAt)), loc)
	if err != nil {
		occurred = time.UnixMilli(ts).In(loc)
	}
	id := ""
	if it.ID != nil {
		id = strings.TrimSpace(*it.ID)
	}
	if id == "" {
		id = derivedID(r.conn, ts, canonicalJSON(raw))
	}
	ev := events.Event{
		ID:         id,
		Connection: r.conn,
		OccurredAt: occurred,
		ReceivedAt: now,
		Customer:   events.Customer{WhatsApp: string(it.FriendWhatsID)},
		Agent:      string(it.UserName),
	}
	if kind == itemFollowupWritten {
		ev.Type = events.TypeFollowupCreated
		ev.Followup = parseFollow(string(it.TargetValue))
		return ev, nil
	}
	ev.Type = events.TypeCustomerUpdated
	ev.Change = changeOf(it)
	return ev, nil
}

// changeOf maps the changed field of a profile-update item to canonical
// names and values. A basic field takes its canonical name from labelFields
// (an unknown label is kept lowercased, never dropped); an extension field
// keeps its own name with Custom true. Gender, dates and lists are read as
// values.go reads them; other values stay the provider's text.
func changeOf(it *webhookItem) *events.Change {
	from, to := string(it.SourceValue), string(it.TargetValue)
	ft, _ := it.FieldType.Int64()
	if ft == fieldTypeExtension {
		ch := &events.Change{Field: string(it.Field), Custom: true, From: from, To: to}
		if fc, _ := it.FieldConfig.Int64(); fc == fieldConfigMultiSelect || fc == fieldConfigAttachment {
			ch.From, ch.To = parseList(from), parseList(to)
		}
		return ch
	}
	name, ok := labelFields[string(it.Field)]
	if !ok {
		name = strings.ToLower(strings.TrimSpace(string(it.Field)))
	}
	ch := &events.Change{Field: name, From: from, To: to}
	switch name {
	case schema.FieldGender:
		ch.From, ch.To = canonicalGender(from), canonicalGender(to)
	case schema.FieldBirthday:
		ch.From, ch.To = canonicalDay(from, ""), canonicalDay(to, "")
	case schema.FieldTags:
		ch.From, ch.To = parseList(from), parseList(to)
	}
	return ch
}

// followText is the documented JSON form of a follow-up:
// {"data":{"text":..., "url":[...]}, "dataTypeMap":{...}}.
type followText struct {
	Data *struct {
		Text string   `json:"text"`
		URL  []string `json:"url"`
	} `json:"data"`
}

// parseFollow reads a follow-up's JSON text. When it does not parse, it is
// tried once more with a closing "}" appended (the provider document's own
// example lacks one); when that fails too, or the JSON has no "data" object,
// the raw text is kept with Raw true. It never returns nil.
func parseFollow(s string) *events.Followup {
	for _, candidate := range []string{s, s + "}"} {
		var f followText
		if err := json.Unmarshal([]byte(candidate), &f); err != nil || f.Data == nil {
			continue
		}
		att := []string{}
		for _, u := range f.Data.URL {
			if u = strings.TrimSpace(u); u != "" {
				att = append(att, u)
			}
		}
		return &events.Followup{Text: f.Data.Text, Attachments: att}
	}
	return &events.Followup{Text: s, Attachments: []string{}, Raw: true}
}

// followItem turns a USER_WRITE_FLOW item into a customer.followup_created
// event. It occurred at the body's timestamp, read in Config.Location().
func (r *webhookReceiver) followItem(it *webhookItem, ts int64, now time.Time) events.Event {
	follow := string(*it.Follow)
	content := canonicalJSON(mustJSON([]string{
		string(it.FriendWhatsID), string(it.UserID), string(it.Username), follow,
	}))
	return events.Event{
		ID:         derivedID(r.conn, ts, content),
		Type:       events.TypeFollowupCreated,
		Connection: r.conn,
		OccurredAt: time.UnixMilli(ts).In(r.loc),
		ReceivedAt: now,
		Customer:   events.Customer{WhatsApp: string(it.FriendWhatsID)},
		Agent:      string(it.Username),
		Followup:   parseFollow(follow),
	}
}

// derivedID is the stable id of an item the provider gives no id: the hex of
// the first 16 bytes of SHA-256 over the connection, the body's timestamp and
// the item's content, each length-prefixed so no two inputs collide by
// concatenation.
func derivedID(conn string, ts int64, content []byte) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(conn), []byte(strconv.FormatInt(ts, 10)), content} {
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// canonicalJSON re-encodes JSON with sorted keys and no insignificant space,
// so that key order and formatting do not change a derived id. Invalid JSON is
// returned unchanged.
func canonicalJSON(b []byte) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return b
	}
	return mustJSON(v)
}

// mustJSON marshals v, which must be marshalable.
func mustJSON(v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("wscrm: marshal %T: %v", v, err))
	}
	return out
}
