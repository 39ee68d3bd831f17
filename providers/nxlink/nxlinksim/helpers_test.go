package nxlinksim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"crmgate/providers/nxlink/internal/nxlinktest"
)

func testSimulator() *Simulator {
	return New(Config{Now: nxlinktest.Clock, Accounts: []Account{{
		AccessKey: nxlinktest.AccessKey, AccessSecret: nxlinktest.Secret, TenantID: nxlinktest.TenantID, AppKey: nxlinktest.AppKey,
		Seats: []string{"agent1@example.com"},
	}}})
}

// signedRequest builds a request of the document's account, signed with md5
// at ts; edit may change its headers after signing.
func signedRequest(body string, ts time.Time, edit func(h http.Header)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("accessKey", nxlinktest.AccessKey)
	r.Header.Set("ts", strconv.FormatInt(ts.UnixMilli(), 10))
	r.Header.Set("bizType", "2")
	r.Header.Set("action", "mt")
	r.Header.Set("sign", signature("md5", r.Header, []byte(body), nxlinktest.Secret))
	if edit != nil {
		edit(r.Header)
	}
	return r
}

// answerOf serves r and decodes the answer generically.
func answerOf(t *testing.T, sim *Simulator, r *http.Request) (int, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	var m map[string]any
	dec := json.NewDecoder(w.Body)
	dec.UseNumber()
	if w.Code == http.StatusOK {
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("answer is not JSON: %v", err)
		}
	}
	return w.Code, m
}

// body builds a request body with the given type, strict_binding and customers.
func body(typ int, strict bool, customers ...string) string {
	return fmt.Sprintf(`{"type":%d,"tenant_id":123,"app_key":"46oKF=os","strict_binding":%v,"customers":[%s]}`,
		typ, strict, strings.Join(customers, ","))
}

const okCustomer = `{"full_name":"zhang san","whats_app_phone":"8618163725558"}`

// shape describes a decoded JSON value's keys and types.
func shape(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.WriteString("{")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s:%s,", k, shape(x[k]))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		if len(x) == 0 {
			return "[]"
		}
		return "[" + shape(x[0]) + "]"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
