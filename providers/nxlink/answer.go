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
	ok = p.Object(func(name string) (uint64, bool) {
		switch name {
		case "code":
			return 1 << 0, number(&ans.Code)
		case "message":
			if p.Null() {
				return 1 << 1, true
			}
			s, ok := p.Str()
			ans.Message = &s
			return 1 << 1, ok
		case "traceId":
			var ok bool
			ans.TraceID, ok = p.Str()
			return 1 << 2, ok
		case "data":
			if p.Null() {
				return 1 << 3, true
			}
			ans.Data = &batchData{}
			return 1 << 3, plainData(&p, ans.Data, number)
		}
		return 0, false
	}) && p.End()
	return ans, ok
}

func plainData(p *plainjson.Scanner, d *batchData, number func(*json.Number) bool) bool {
	return p.Object(func(name string) (uint64, bool) {
		switch name {
		case "totalCount":
			return 1 << 0, number(&d.TotalCount)
		case "successCount", "failCount":
			_, ok := p.Number()
			if name == "failCount" {
				return 1 << 1, ok
			}
			return 1 << 2, ok
		case "failItems":
			return 1 << 3, plainItems(p, &d.FailItems, func(it *failItem) bool {
				return p.Object(func(name string) (uint64, bool) {
					switch name {
					case "index":
						return 1 << 0, number(&it.Index)
					case "errorCode":
						return 1 << 1, number(&it.ErrorCode)
					case "errorMessage":
						var ok bool
						it.ErrorMessage, ok = p.Str()
						return 1 << 2, ok
					}
					return 0, false
				})
			})
		case "successItems":
			return 1 << 4, plainItems(p, &d.SuccessItems, func(it *successItem) bool {
				return p.Object(func(name string) (uint64, bool) {
					switch name {
					case "index":
						return 1 << 0, number(&it.Index)
					case "customerId":
						return 1 << 1, number(&it.CustomerID)
					case "whatsAppPhone":
						_, ok := p.Str()
						return 1 << 2, ok
					}
					return 0, false
				})
			})
		}
		return 0, false
	})
}

// plainItems reads a list of items, each by item: null leaves *list nil
// and [] makes it empty, as encoding/json does.
func plainItems[T any](p *plainjson.Scanner, list *[]T, item func(*T) bool) bool {
	if p.Null() {
		return true
	}
	*list = []T{}
	return p.Array(func() bool {
		var zero T
		*list = append(*list, zero)
		return item(&(*list)[len(*list)-1])
	})
}
