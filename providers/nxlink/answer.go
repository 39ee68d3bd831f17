package nxlink

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"crmgate/internal/plainjson"
)

// decodeAnswer decodes one answer of the batch create call as encoding/json
// decodes it into batchResponse with UseNumber (names matched without
// regard to case, the last of a name twice winning, unknown members
// skipped, what follows the first value ignored). An answer of the plain
// shape the document gives is read by decodePlainAnswer without
// reflection; any other goes to encoding/json itself.
func decodeAnswer(body []byte) (batchResponse, error) {
	if ans, ok := decodePlainAnswer(body); ok {
		return ans, nil
	}
	var ans batchResponse
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&ans)
	return ans, err
}

// decodePlainAnswer reads an answer whose member names are exactly the
// document's, each once, with values of the types batchResponse holds
// (null only for message, data and the item lists), members the gateway
// does not read holding scalars, valid UTF-8, no escapes and nothing after
// it. Anything else is not ok, and then encoding/json decides. Whenever it
// is ok, the answer is what encoding/json gives (FuzzPlainAnswerIsJSON).
func decodePlainAnswer(body []byte) (ans batchResponse, ok bool) {
	if !utf8.Valid(body) {
		return ans, false
	}
	p := plainjson.Scanner{S: string(body)}
	number := func(dst *json.Number) bool {
		text, ok := p.Number()
		*dst = json.Number(text)
		return ok
	}
	ok = p.Object(func(name string) bool {
		switch name {
		case "code":
			return number(&ans.Code)
		case "message":
			if p.Null() {
				return true
			}
			s, ok := p.Str()
			ans.Message = &s
			return ok
		case "traceId":
			var ok bool
			ans.TraceID, ok = p.Str()
			return ok
		case "data":
			if p.Null() {
				return true
			}
			ans.Data = &batchData{}
			return plainData(&p, ans.Data, number)
		}
		return false
	}) && p.End()
	return ans, ok
}

func plainData(p *plainjson.Scanner, d *batchData, number func(*json.Number) bool) bool {
	return p.Object(func(name string) bool {
		switch name {
		case "totalCount":
			return number(&d.TotalCount)
		case "successCount", "failCount":
			_, ok := p.Number()
			return ok
		case "failItems":
			if p.Null() {
				return true
			}
			d.FailItems = []failItem{}
			return p.Array(func() bool {
				var it failItem
				ok := p.Object(func(name string) bool {
					switch name {
					case "index":
						return number(&it.Index)
					case "errorCode":
						return number(&it.ErrorCode)
					case "errorMessage":
						var ok bool
						it.ErrorMessage, ok = p.Str()
						return ok
					}
					return false
				})
				d.FailItems = append(d.FailItems, it)
				return ok
			})
		case "successItems":
			if p.Null() {
				return true
			}
			d.SuccessItems = []successItem{}
			return p.Array(func() bool {
				var it successItem
				ok := p.Object(func(name string) bool {
					switch name {
					case "index":
						return number(&it.Index)
					case "customerId":
						return number(&it.CustomerID)
					case "whatsAppPhone":
						_, ok := p.Str()
						return ok
					}
					return false
				})
				d.SuccessItems = append(d.SuccessItems, it)
				return ok
			})
		}
		return false
	})
}
