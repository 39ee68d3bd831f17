package wscrmsim

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"crmgate/fieldconfig"
	"crmgate/providers/internal/commalist"
	"crmgate/providers/internal/wirejson"
)

// upsert merges one valid batchImport record into the customers. Call with
// s.mu held.
func (s *Simulator) upsert(rec map[string]any) {
	phone := text(rec[keyWhatsApp])
	c := s.customers[phone]
	if c == nil {
		s.seq++
		c = &contact{whatsApp: phone, fields: map[string]any{}, seq: s.seq}
		s.customers[phone] = c
	}
	c.agent = text(rec[keyAgentAccount])
	copyFields(c.fields, rec)
	c.tags = applyTags(c.tags, commalist.Split(text(rec[keyTabName])), commalist.Split(text(rec[keyCancelTabName])))
}

// poolPut stores one valid record in an agent's pool, overwriting the entry
// of the same number. cancelTabName is honoured only by the replace endpoint
// (the append endpoint's document has no such key). Call with s.mu held.
func (s *Simulator) poolPut(agent string, rec map[string]any, cancel bool) {
	phone := text(rec[keyWhatsApp])
	s.seq++
	e := &contact{whatsApp: phone, agent: agent, fields: map[string]any{}, seq: s.seq}
	if old := s.pools[agent][phone]; old != nil {
		e.seq = old.seq
	}
	copyFields(e.fields, rec)
	var removed []string
	if cancel {
		removed = commalist.Split(text(rec[keyCancelTabName]))
	}
	e.tags = applyTags(nil, commalist.Split(text(rec[keyTabName])), removed)
	s.pools[agent][phone] = e
}

// copyFields copies a record's non-empty values into fields, except the
// keys that are not stored as values (agent, number and tags).
func copyFields(fields, rec map[string]any) {
	for k, v := range rec {
		switch k {
		case keyAgentAccount, keyWhatsApp, keyTabName, keyCancelTabName:
			continue
		}
		if text(v) != "" {
			fields[k] = v
		}
	}
}

// applyTags removes cancel from tags, then adds add (no duplicates).
func applyTags(tags, add, cancel []string) []string {
	var out []string
	for _, t := range tags {
		if !slices.Contains(cancel, t) {
			out = append(out, t)
		}
	}
	for _, t := range add {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// queryAnswer is the query answer, in the document's shape.
type queryAnswer struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Data    []queryItem `json:"data"`
}

// queryItem is one friend contact, keys in the document's order.
type queryItem struct {
	WhatsID       string         `json:"whatsId"`
	Name          string         `json:"name"`
	Sex           *string        `json:"sex"`
	Email         string         `json:"email"`
	Birthday      *string        `json:"birthday"`
	Address       string         `json:"address"`
	Profession    string         `json:"profession"`
	Income        string         `json:"income"`
	Desc          string         `json:"desc"`
	Country       *string        `json:"country"`
	Stage         *int64         `json:"stage"`
	Source        *int64         `json:"source"`
	TabList       []string       `json:"tabList"`
	FirstChatTime *string        `json:"firstChatTime"`
	LastChatTime  *string        `json:"lastChatTime"`
	ExtendMap     map[string]any `json:"extendMap"`
}

// query serves open/customer/query. An unknown whatsId has no contacts.
func (s *Simulator) query(body []byte) any {
	var req struct {
		TenantID wirejson.Text `json:"tenantId"`
		WhatsID  wirejson.Text `json:"whatsId"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return refusal(CodeParamError, "parameter error")
	}
	if e, ok := s.tenantOK(req.TenantID); !ok {
		return e
	}
	whatsID := strings.TrimSpace(string(req.WhatsID))
	if whatsID == "" {
		return refusal(CodeParamError, "whatsId Is Null")
	}
	account := ""
	for _, a := range s.cfg.Agents {
		if a.WhatsID == whatsID {
			account = a.Account
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	merged := map[string]*contact{}
	if account != "" {
		for _, c := range s.customers {
			if c.agent == account {
				merged[c.whatsApp] = c
			}
		}
		for phone, e := range s.pools[account] {
			c, ok := merged[phone]
			if !ok {
				merged[phone] = e
				continue
			}
			both := &contact{whatsApp: phone, agent: account, fields: map[string]any{}, seq: min(c.seq, e.seq)}
			for k, v := range e.fields {
				both.fields[k] = v
			}
			for k, v := range c.fields {
				both.fields[k] = v
			}
			both.tags = applyTags(c.tags, e.tags, nil)
			merged[phone] = both
		}
	}
	list := make([]*contact, 0, len(merged))
	for _, c := range merged {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	ans := queryAnswer{Code: CodeOK, Message: "Success", Data: make([]queryItem, 0, len(list))}
	for _, c := range list {
		ans.Data = append(ans.Data, s.queryItem(c))
	}
	return ans
}

// queryItem writes one contact as the query answers it: empty text as "",
// unknown sex, birthday, country, stage, source and tags as null, dates as
// yyyy/MM/dd (the document's example), sex as the webhooks spell it (MALE,
// FEMALE, UNKOWNN), the country derived from the number, single-select
// values as the plain option.
func (s *Simulator) queryItem(c *contact) queryItem {
	str := func(k string) string { return text(c.fields[k]) }
	it := queryItem{
		WhatsID:    c.whatsApp,
		Name:       str(keyFriendName),
		Email:      str(keyEmail),
		Address:    str(keyAddress),
		Profession: str(keyProfession),
		Income:     str(keyIncome),
		Desc:       str(keyDesc),
		Stage:      s.stageIDs[str(keyStage)],
		Source:     s.sourceIDs[str(keySource)],
		TabList:    c.tags,
	}
	if sex, ok := sexValues[str(keySex)]; ok {
		it.Sex = &sex
	}
	if b := str(keyBirthday); b != "" {
		it.Birthday = &b
	}
	if num, err := phonenumbers.Parse("+"+c.whatsApp, ""); err == nil {
		if region := phonenumbers.GetRegionCodeForNumber(num); region != "" && region != "ZZ" {
			it.Country = &region
		}
	}
	for k, v := range c.fields {
		f := s.ext[k]
		if f == nil {
			continue
		}
		if it.ExtendMap == nil {
			it.ExtendMap = map[string]any{}
		}
		it.ExtendMap[k] = extendValue(f, text(v))
	}
	return it
}

// extendValue is a stored extension value as the query's extendMap holds it.
func extendValue(f *fieldconfig.CustomField, t string) any {
	switch f.Type {
	case fieldconfig.TypeNumber:
		return json.Number(t)
	case fieldconfig.TypeDate:
		layout := layoutDate
		if f.Format != "" {
			layout = f.Format
		}
		if d, err := time.Parse(layout, t); err == nil {
			return d.Format(layoutBirthday)
		}
	case fieldconfig.TypeSingleSelect:
		var one []string
		if strings.HasPrefix(t, "[") && json.Unmarshal([]byte(t), &one) == nil && len(one) == 1 {
			return one[0]
		}
	}
	return t
}
