package bench

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"crmgate/providers/nxlink/nxlinksim"
)

// LeanNXLink is an NXLink batch create endpoint that costs the peer next to
// nothing, for BenchmarkCPU: it answers every customer of a call succeeded,
// in the document's answer shape (the successItems of answer_success.json,
// as the simulator writes them), and checks nothing: not the signature, not
// the account, not the records. With the full simulator on the peer's core,
// a 1 000-record import kept that core over 90 % busy and the gateway waited
// on it for two thirds of the time: the figure then counted the gateway
// waking up, not its work.
//
// It finds the customers of the gateway's bodies by the key each one starts
// with, `{"full_name":` (nxlink's appendJSON writes it first, always); the
// sequence cannot occur inside a JSON string, whose quotes are escaped. Each
// customer's whats_app_phone, digits without escapes, is read the same way.
func LeanNXLink() http.Handler {
	var next atomic.Int64
	next.Store(nxlinksim.FirstCustomerID)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		out := leanAnswer(body, &next)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		_, _ = w.Write(out)
	})
}

var (
	leanCustomer = []byte(`{"full_name":`)
	leanPhone    = []byte(`"whats_app_phone":"`)
)

// leanAnswer is the answer to one batch create body: each customer
// succeeded, customerIds counted up from next.
func leanAnswer(body []byte, next *atomic.Int64) []byte {
	// One pass: each customer's start, and its phone before the next start.
	var phones [][]byte
	for at := bytes.Index(body, leanCustomer); at >= 0; {
		cust := body[at+len(leanCustomer):]
		end := bytes.Index(cust, leanCustomer)
		if end >= 0 {
			cust = cust[:end]
		}
		var phone []byte
		if p := bytes.Index(cust, leanPhone); p >= 0 {
			phone = cust[p+len(leanPhone):]
			phone = phone[:max(bytes.IndexByte(phone, '"'), 0)]
		}
		phones = append(phones, phone)
		if end < 0 {
			break
		}
		at += len(leanCustomer) + end
	}
	n := int64(len(phones))
	first := next.Add(n) - n
	out := make([]byte, 0, 160+64*n)
	out = append(out, `{"code":0,"message":null,"traceId":"lean0000000000000000000000000000","data":{"totalCount":`...)
	out = strconv.AppendInt(out, n, 10)
	out = append(out, `,"successCount":`...)
	out = strconv.AppendInt(out, n, 10)
	out = append(out, `,"failCount":0,"failItems":[],"successItems":[`...)
	for i, phone := range phones {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"index":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"customerId":`...)
		out = strconv.AppendInt(out, first+int64(i), 10)
		out = append(out, `,"whatsAppPhone":"`...)
		out = append(out, phone...)
		out = append(out, `"}`...)
	}
	return append(out, "]}}\n"...)
}
