package nxlink

import (
	"encoding/json"
	"fmt"
	"strconv"

	"crmgate/providers/internal/wirejson"
)

// The batch body and customize_field are written with an appending encoder
// rather than encoding/json: the same bytes as marshal gives (compact, keys
// in struct order, omitempty, no HTML escaping; TestAppendBatchAsMarshal
// holds them equal), without reflection or an encoder per value.

// appendBatch appends the batch create body of req.
func appendBatch(b []byte, req *batchRequest) []byte {
	b = append(b, `{"type":`...)
	b = strconv.AppendInt(b, int64(req.Type), 10)
	b = append(b, `,"tenant_id":`...)
	b = strconv.AppendInt(b, req.TenantID, 10)
	b = append(b, `,"app_key":`...)
	b = wirejson.AppendString(b, req.AppKey)
	b = append(b, `,"strict_binding":`...)
	b = strconv.AppendBool(b, req.StrictBinding)
	b = append(b, `,"customers":`...)
	if req.Customers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range req.Customers {
			if i > 0 {
				b = append(b, ',')
			}
			b = req.Customers[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendJSON appends w as encoding/json writes it.
func (w *wireCustomer) appendJSON(b []byte) []byte {
	b = append(b, `{"full_name":`...)
	b = wirejson.AppendString(b, w.FullName)
	str := func(key, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, '"', ':')
			b = wirejson.AppendString(b, v)
		}
	}
	str("first_name", w.FirstName)
	str("last_name", w.LastName)
	str("sms_phone", w.SMSPhone)
	str("whats_app_phone", w.WhatsAppPhone)
	str("viber_phone", w.ViberPhone)
	str("messenger", w.Messenger)
	str("instagram", w.Instagram)
	str("zalo", w.Zalo)
	str("line", w.Line)
	str("country", w.Country)
	str("email", w.Email)
	str("address", w.Address)
	str("birthday", w.Birthday)
	str("tagStr", w.TagStr)
	str("remark", w.Remark)
	str("time_zone", w.TimeZone)
	if w.Gender != nil {
		b = append(b, `,"gender":`...)
		b = strconv.AppendInt(b, int64(*w.Gender), 10)
	}
	str("customize_field", w.CustomizeField)
	str("belong_seat_user", w.BelongSeatUser)
	if w.Weight != 0 {
		b = append(b, `,"weight":`...)
		b = strconv.AppendInt(b, int64(w.Weight), 10)
	}
	return append(b, '}')
}

// appendValue appends a checked custom field's encoded value (a string or a
// json.Number, see fieldconfig.CustomField.Encode; Rules.Check made sure the
// number is one). Anything else goes through marshal, which cannot fail for
// the values Encode gives.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return wirejson.AppendString(b, x)
	case json.Number:
		return append(b, x...)
	}
	enc, err := wirejson.Marshal(v)
	if err != nil {
		return wirejson.AppendString(b, fmt.Sprint(v))
	}
	return append(b, enc...)
}
