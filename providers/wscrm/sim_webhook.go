package wscrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/sandbox"
	"crmgate/schema"
)

// ErrBadChange marks a sandbox change that cannot be turned into a webhook
// (POST /v1/sandbox/{connection}/changes answers it with 400).
var ErrBadChange = errors.New("bad sandbox change")

// DefaultSandboxAgent is the agent (userName) of a simulated change that names
// none, when the connection lists no agents.
const DefaultSandboxAgent = "sandbox-agent"

// sandboxUserID is the agent id (userId) a simulated follow-up carries.
const sandboxUserID = 1

// canonicalToWSCRM maps the canonical fields a WSCRM profile-update webhook
// can carry to WSCRM's field name and fieldConfig.
var canonicalToWSCRM = map[string]struct {
	field  string
	config int
}{
	schema.FieldName:       {"Name", fieldConfigSingleLine},
	schema.FieldGender:     {"Gender", fieldConfigSingleSelect},
	schema.FieldBirthday:   {"DOB", fieldConfigDate},
	schema.FieldAddress:    {"Address", fieldConfigSingleLine},
	schema.FieldEmail:      {"Email", fieldConfigSingleLine},
	schema.FieldProfession: {"Position", fieldConfigSingleLine},
	schema.FieldIncome:     {"Income", fieldConfigSingleLine},
	schema.FieldRemarks:    {"Description", fieldConfigMultiLine},
	schema.FieldSource:     {"From", fieldConfigSingleSelect},
	schema.FieldStage:      {"State", fieldConfigSingleSelect},
	schema.FieldLanguage:   {"Language", fieldConfigSingleSelect},
	schema.FieldTags:       {"Tags", fieldConfigMultiSelect},
}

// WebhookSender is the sandbox simulator's webhook side: it plays an agent
// changing a customer in WSCRM's client and sends the webhook WSCRM would
// send, as the provider document shows it, to the gateway. It implements
// sandbox.ChangeSimulator.
type WebhookSender struct {
	tenantID int64
	token    string // static accessToken; unused with hmacKey
	hmacKey  string // mode hmac: the accessToken is signed with it
	target   string
	agent    string
	loc      *time.Location
	hc       *http.Client

	now   func() time.Time // the clock; time.Now unless a test sets it
	newID func() string    // a fresh 32-hex item id
}

// NewWebhookSender returns a sender that posts cfg's connection webhooks to
// target (the gateway's POST /v1/webhooks/wscrm/{connection} URL) with hc
// (http.DefaultClient when nil). The accessToken is cfg.Webhook.Token in mode
// static and the HMAC of tenantId.timestamp in mode hmac, so the receiver of
// the same cfg accepts what it sends. The default agent is cfg's first agent
// account, or DefaultSandboxAgent.
func NewWebhookSender(cfg *Config, target string, hc *http.Client) *WebhookSender {
	if hc == nil {
		hc = http.DefaultClient
	}
	s := &WebhookSender{
		tenantID: cfg.TenantID,
		target:   target,
		agent:    DefaultSandboxAgent,
		loc:      cfg.Location(),
		hc:       hc,
		now:      time.Now,
		newID:    func() string { id, _ := randomHex(16); return id },
	}
	if cfg.Webhook.Mode == WebhookHMAC {
		s.hmacKey = cfg.Webhook.Secret.Reveal()
	} else {
		s.token = cfg.Webhook.Token.Reveal()
	}
	if len(cfg.Agents) > 0 && cfg.Agents[0].Account != "" {
		s.agent = cfg.Agents[0].Account
	}
	return s
}

// sandboxChange is the body of POST /v1/sandbox/{connection}/changes:
// either field and to (a profile update), or followup (a follow-up written).
// Its comments and tags are what openapi.yaml says of the body.
type sandboxChange struct {
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

// Wire forms of the two webhooks, fields in the provider document's order.
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
// wrong kind) is an error wrapping ErrBadChange. In both cases nothing is
// sent. Otherwise the error is nil only when the gateway answered HTTP 200
// with code 200.
func (s *WebhookSender) SimulateChange(ctx context.Context, change json.RawMessage, rules *fieldconfig.Rules) error {
	body, err := s.build(change, rules)
	if err != nil {
		return err
	}
	return s.post(ctx, body)
}

// build returns the webhook body for change.
func (s *WebhookSender) build(change json.RawMessage, rules *fieldconfig.Rules) ([]byte, error) {
	var c sandboxChange
	d := json.NewDecoder(bytes.NewReader(change))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: %v", ErrBadChange, err)
	}
	if d.More() {
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: more than one JSON value", ErrBadChange)
	}
	whats, ok := schema.Digits(c.WhatsApp)
	if !ok {
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: whatsapp: required, a phone number in digits", ErrBadChange)
	}
	agent := strings.TrimSpace(c.Agent)
	if agent == "" {
		agent = s.agent
	}
	now := s.now()
	ts := now.UnixMilli()
	token := s.token
	if s.hmacKey != "" {
		token = webhookHMAC(s.hmacKey, s.tenantID, ts)
	}

	hasField := strings.TrimSpace(c.Field) != ""
	switch {
	case hasField && c.Followup != nil:
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: give either field and to, or followup, not both", ErrBadChange)
	case c.Followup != nil:
		follow := mustJSON(map[string]any{"data": map[string]any{"text": *c.Followup, "url": []string{}}})
		return mustJSON(followWebhook{
			AccessToken: token,
			TenantID:    s.tenantID,
			Timestamp:   ts,
			Data: []followItem{{
				FriendWhatsID: whats,
				UserID:        sandboxUserID,
				TenantID:      s.tenantID,
				Follow:        string(follow),
				Username:      agent,
			}},
		}), nil
	case !hasField:
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: field (with to) or followup is required", ErrBadChange)
	}

	if len(bytes.TrimSpace(c.To)) == 0 {
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: to: required", ErrBadChange)
	}
	item, err := wireChange(strings.TrimSpace(c.Field), rules, c.From, c.To)
	var fe *sandbox.ChangeFieldError
	if errors.As(err, &fe) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("wscrm.SimulateChange: %w: %v", ErrBadChange, err)
	}
	item.ID = s.newID()
	item.Type = itemProfileUpdate
	item.UserName = agent
	item.FriendWhatsID = whats
	item.UpdateAt = now.In(s.loc).Format(updateAtLayout)
	return mustJSON(profileWebhook{
		AccessToken: token,
		TenantID:    s.tenantID,
		Timestamp:   ts,
		Data:        []profileItem{item},
	}), nil
}

// customFieldConfig is the fieldConfig of each custom field type.
var customFieldConfig = map[string]int{
	fieldconfig.TypeText:         fieldConfigSingleLine,
	fieldconfig.TypeTextarea:     fieldConfigMultiLine,
	fieldconfig.TypeSingleSelect: fieldConfigSingleSelect,
	fieldconfig.TypeMultiSelect:  fieldConfigMultiSelect,
	fieldconfig.TypeNumber:       fieldConfigNumber,
	fieldconfig.TypeDate:         fieldConfigDate,
	fieldconfig.TypeTime:         fieldConfigTime,
	fieldconfig.TypeAttachment:   fieldConfigAttachment,
}

// changeField resolves the field a sandbox change names: a canonical field
// WSCRM's webhook carries, WSCRM's label for one (its canonical name is
// returned), or a custom field of rules by name or WSCRM key. Anything else
// is a *sandbox.ChangeFieldError.
func changeField(field string, rules *fieldconfig.Rules) (string, *fieldconfig.CustomField, error) {
	if _, ok := canonicalToWSCRM[field]; ok {
		return field, nil, nil
	}
	if name, ok := basicFields[field]; ok {
		return name, nil, nil
	}
	var custom []fieldconfig.CustomField
	if rules != nil {
		custom = rules.Config().CustomFields
	}
	for i := range custom {
		if custom[i].Name == field || custom[i].Key() == field {
			return "", &custom[i], nil
		}
	}
	e := &sandbox.ChangeFieldError{Field: field}
	for name := range canonicalToWSCRM {
		e.Canonical = append(e.Canonical, name)
	}
	for label := range basicFields {
		e.Labels = append(e.Labels, label)
	}
	slices.Sort(e.Canonical)
	slices.Sort(e.Labels)
	for _, f := range custom {
		e.Custom = append(e.Custom, f.Name)
	}
	return "", nil, e
}

// wireChange fills field, fieldType, fieldConfig, sourceValue and
// targetValue of a profile-update item from a change (see changeField for
// what field may be).
func wireChange(field string, rules *fieldconfig.Rules, from, to json.RawMessage) (profileItem, error) {
	field, custom, err := changeField(field, rules)
	if err != nil {
		return profileItem{}, err
	}
	if w, ok := canonicalToWSCRM[field]; ok {
		item := profileItem{Field: w.field, FieldType: fieldTypeBasic, FieldConfig: w.config}
		var err error
		if item.SourceValue, err = basicWireValue(field, from); err != nil {
			return item, fmt.Errorf("from: %v", err)
		}
		if item.TargetValue, err = basicWireValue(field, to); err != nil {
			return item, fmt.Errorf("to: %v", err)
		}
		return item, nil
	}
	item := profileItem{Field: custom.Key(), FieldType: fieldTypeExtension}
	if item.TargetValue, item.FieldConfig, err = extensionWireValue(to, customFieldConfig[custom.Type]); err != nil {
		return item, fmt.Errorf("to: %v", err)
	}
	if item.SourceValue, _, err = extensionWireValue(from, item.FieldConfig); err != nil {
		return item, fmt.Errorf("from: %v", err)
	}
	return item, nil
}

// basicWireValue is a canonical basic field's value as WSCRM's webhook writes
// it. Absent and null are "".
func basicWireValue(field string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	if field == schema.FieldTags {
		var tags []string
		if err := json.Unmarshal(raw, &tags); err != nil {
			return "", errors.New("tags: an array of strings")
		}
		for _, t := range tags {
			if strings.TrimSpace(t) == "" || strings.ContainsAny(t, ",[]") {
				return "", fmt.Errorf("tags: %q is empty or holds a comma or bracket", t)
			}
		}
		return "[" + strings.Join(tags, ",") + "]", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: a string", field)
	}
	switch field {
	case schema.FieldGender:
		switch v {
		case "":
			return "", nil
		case "male":
			return "MALE", nil
		case "female":
			return "FEMALE", nil
		case "unknown":
			return "UNKOWNN", nil // sic: the provider's own spelling
		}
		return "", fmt.Errorf("gender: %q is not male, female or unknown", v)
	case schema.FieldBirthday:
		if v == "" {
			return "", nil
		}
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return "", fmt.Errorf("birthday: %q is not YYYY-MM-DD", v)
		}
	}
	return v, nil
}

var (
	dateValue = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timeValue = regexp.MustCompile(`^\d{2}:\d{2}:\d{2}$`)
)

// extensionWireValue is an extension field's value as WSCRM's webhook writes
// it, with the fieldConfig it implies. When want is not 0 (the "from" of a
// change whose "to" set it) the value is written in that kind.
func extensionWireValue(raw json.RawMessage, want int) (string, int, error) {
	if isNull(raw) {
		if want == 0 {
			want = fieldConfigSingleLine
		}
		return "", want, nil
	}
	switch bytes.TrimSpace(raw)[0] {
	case '[':
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", 0, errors.New("an array of strings")
		}
		for _, v := range list {
			if strings.Contains(v, ",") {
				return "", 0, fmt.Errorf("%q holds a comma", v)
			}
		}
		kind := want
		if kind == 0 {
			kind = fieldConfigMultiSelect
			if len(list) > 0 && allURLs(list) {
				kind = fieldConfigAttachment
			}
		}
		if kind == fieldConfigAttachment {
			return strings.Join(list, ","), kind, nil
		}
		return "[" + strings.Join(list, ",") + "]", kind, nil
	case '"':
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", 0, err
		}
		kind := want
		switch {
		case kind != 0:
		case dateValue.MatchString(v):
			kind = fieldConfigDate
		case timeValue.MatchString(v):
			kind = fieldConfigTime
		default:
			kind = fieldConfigSingleLine
		}
		return v, kind, nil
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", 0, errors.New("a string, a number or an array of strings")
		}
		if _, err := strconv.ParseFloat(n.String(), 64); err != nil {
			return "", 0, fmt.Errorf("%s is not a number", n)
		}
		kind := want
		if kind == 0 {
			kind = fieldConfigNumber
		}
		return n.String(), kind, nil
	}
}

// allURLs reports whether every item is an http(s) URL.
func allURLs(list []string) bool {
	for _, v := range list {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return false
		}
	}
	return true
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// post sends one webhook body and checks the answer.
func (s *WebhookSender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wscrm.SimulateChange: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("wscrm.SimulateChange: %w: %v", gateway.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("wscrm.SimulateChange: reading the answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("wscrm.SimulateChange: the webhook was answered HTTP %d: %s", resp.StatusCode, answerSnippet(answer))
	}
	var a struct {
		Code json.RawMessage `json:"code"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return fmt.Errorf("wscrm.SimulateChange: the webhook answer is not JSON: %s", answerSnippet(answer))
	}
	if code, ok := rawInt(a.Code); !ok || code != 200 {
		return fmt.Errorf("wscrm.SimulateChange: the webhook was answered code %s, not 200: %s", bytes.TrimSpace(a.Code), answerSnippet(answer))
	}
	return nil
}
