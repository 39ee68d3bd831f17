package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"crmgate/api"
	"crmgate/api/answer"
	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/providers/nxlink"
	"crmgate/providers/nxlink/nxlinksim"
	"crmgate/providers/wscrm"
	"crmgate/providers/wscrm/wscrmsim"
	"crmgate/schema"
	"crmgate/secret"
)

// The NXLink account the simulators know and the gateway's connections use.
const (
	NXAccessKey    = "bench-access-key"
	NXAccessSecret = "bench-access-secret-0123456789"
	NXTenantID     = 123
	NXAppKey       = "bench-app-key"
	NXSeat         = "agent1@example.com"
	WSTenantID     = 82
)

// NXLinkCustomers returns n canonical records for an NXLink connection with
// nxlinksim.SampleFieldConfig: every field NXLink has, phones as people type
// them (each record a different WhatsApp number), and the three custom fields.
func NXLinkCustomers(n int) []schema.Customer {
	out := make([]schema.Customer, n)
	for i := range out {
		level := 1 + i%5
		out[i] = schema.Customer{
			Ref: "crm-" + strconv.Itoa(i), Name: "Li Heng", FirstName: "Heng", LastName: "Li", Gender: "male",
			Birthday: "1990-04-12", WhatsApp: phone(i), Phone: phone(i + 1), Email: "liheng@example.com",
			Country: "CN", Address: "No. 8 Chang'an Avenue, Beijing", TimeZone: "Asia/Shanghai",
			Remarks: "met at the spring fair; prefers WhatsApp", Tags: []string{"VIP", "Soldier"}, Level: &level,
			Owner:        NXSeat,
			CustomFields: map[string]any{"Faction": "Royal Family", "Level": json.Number("3"), "Joined": "2021-06-01"},
		}
	}
	return out
}

// WSCRMCustomers returns n canonical records for a WSCRM connection with
// wscrmsim.SampleFieldConfig: most WSCRM fields, options from the configuration,
// and six of its extension fields.
func WSCRMCustomers(n int) []schema.Customer {
	out := make([]schema.Customer, n)
	for i := range out {
		out[i] = schema.Customer{
			Ref: "crm-" + strconv.Itoa(i), Owner: "kubrick101", WhatsApp: phone(i), Name: "Feng Changqing", Gender: "male",
			Birthday: "2020-03-08", Address: "Chang'an", Email: "fengchangqing@tang.com", Profession: "Military Governor",
			Income: "100 gold", Remarks: "first contact at the gate", Tags: []string{"Soldier", "Strategy"},
			Stage: "New customer", Source: "System assignment", Language: "Auto", WelcomeMessage: "Welcome!",
			CustomFields: map[string]any{"Faction": "Guanlong Group", "extensionField1": "value", "Level": json.Number("3"),
				"Joined": "2021-06-01", "Meeting": "09:30:00", "Interests": []any{"Archery", "Poetry"}},
		}
	}
	return out
}

// phone is a valid Chinese mobile number written as a person types it.
func phone(i int) string {
	return fmt.Sprintf("+86 152 %04d %04d", (i/10000)%10000, i%10000)
}

// ImportBody is the JSON body of POST /v1/customers for the connection and
// records (mode merge).
func ImportBody(conn string, cs []schema.Customer) []byte {
	b, err := json.Marshal(map[string]any{"connection": conn, "mode": gateway.ModeMerge, "customers": cs})
	if err != nil {
		panic(err) // canonical customers always marshal
	}
	return b
}

// NXLinkConfig is the NXLink connection's own configuration for the bench
// account.
func NXLinkConfig() *nxlink.Config {
	return &nxlink.Config{AccessKey: NXAccessKey, AccessSecret: secret.Value(NXAccessSecret), TenantID: NXTenantID,
		AppKey: secret.Value(NXAppKey), SignAlgorithm: nxlink.AlgorithmMD5}
}

// SimAccount is the bench account as the NXLink simulator knows it.
func SimAccount() nxlinksim.Account {
	return nxlinksim.Account{AccessKey: NXAccessKey, AccessSecret: NXAccessSecret, TenantID: NXTenantID, AppKey: NXAppKey,
		Seats: []string{NXSeat}}
}

// SignedHeader returns the headers of an NXLink call carrying body, signed
// now with the bench account's secret (md5), spelled as the document spells
// them.
func SignedHeader(body []byte) map[string][]string {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	return map[string][]string{
		"Content-Type": {"application/json"},
		"accessKey":    {NXAccessKey},
		"ts":           {ts},
		"bizType":      {nxlink.BizType},
		"action":       {nxlink.Action},
		"sign":         {nxlink.Sign(nxlink.AlgorithmMD5, NXAccessKey, nxlink.Action, nxlink.BizType, ts, body, NXAccessSecret)},
	}
}

// Offline wraps a provider adapter so that gateway.Service.Import runs its
// whole path without a network: Do signs the call's body with Sign (when set),
// hands the call to Capture (when set) and answers every record succeeded.
type Offline struct {
	gateway.Provider
	Sign    func(body []byte)
	Capture func(call *gateway.Call)
}

// Do signs and captures call and answers it succeeded (see Offline).
func (p *Offline) Do(_ context.Context, call *gateway.Call) (gateway.CallResult, error) {
	if p.Sign != nil {
		p.Sign(call.Body)
	}
	if p.Capture != nil {
		p.Capture(call)
	}
	out := make([]gateway.Outcome, len(call.Records))
	for i := range out {
		out[i] = gateway.Outcome{Status: gateway.StatusSucceeded}
	}
	return gateway.CallResult{Outcomes: out, Report: gateway.CallReport{HTTPStatus: http.StatusOK, ProviderCode: "0"}}, nil
}

// signSink keeps the signatures alive so the compiler cannot drop them.
var signSink struct {
	sync.Mutex
	last string
}

// NXLinkSign signs body as nxlink's adapter does before sending it: a fresh
// ts and the md5 signature over the headers and the body.
func NXLinkSign(body []byte) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	s := nxlink.Sign(nxlink.AlgorithmMD5, NXAccessKey, nxlink.Action, nxlink.BizType, ts, body, NXAccessSecret)
	signSink.Lock()
	signSink.last = s
	signSink.Unlock()
}

// fixedRules serves one compiled field configuration for every connection.
type fixedRules struct{ r *fieldconfig.Rules }

func (f fixedRules) Rules(string) *fieldconfig.Rules { return f.r }

// OfflineConnection is a gateway connection of the named provider ("nxlink"
// or "wscrm") whose adapter is the real one wrapped in Offline, with the
// provider's sample field configuration. capture may be nil. It returns an
// error for another provider name.
func OfflineConnection(provider string, capture func(*gateway.Call)) (*gateway.Connection, error) {
	common := gateway.Common{ID: "bench-" + provider, Provider: provider, BaseURL: "http://127.0.0.1:1"}
	var (
		p    gateway.Provider
		err  error
		fc   fieldconfig.Config
		sign func([]byte)
	)
	switch provider {
	case nxlink.Name:
		p, err = nxlink.New(common, NXLinkConfig(), http.DefaultClient)
		fc, sign = nxlinksim.SampleFieldConfig(), NXLinkSign
	case wscrm.Name:
		p, err = wscrm.Factory().New(common, &wscrm.Config{TenantID: WSTenantID}, http.DefaultClient)
		fc = wscrmsim.SampleFieldConfig()
	default:
		return nil, fmt.Errorf("bench.OfflineConnection: unknown provider %q", provider)
	}
	if err != nil {
		return nil, fmt.Errorf("bench.OfflineConnection: %w", err)
	}
	rules, err := fieldconfig.Compile(fc)
	if err != nil {
		return nil, fmt.Errorf("bench.OfflineConnection: %w", err)
	}
	return gateway.NewConnection(common, &Offline{Provider: p, Sign: sign, Capture: capture}, nil, fixedRules{rules})
}

// RunPipeline is the gateway's in-process path for one import body: the
// body decoded as the API decodes it (api.DecodeImport), then Service.Import on conn. It
// returns the answer, or an error when the body is not an import or the
// service refused it.
func RunPipeline(svc *gateway.Service, conn *gateway.Connection, body []byte) (*answer.Answer, error) {
	req, decoded, err := api.DecodeImport(body)
	if err != nil {
		return nil, err
	}
	in := gateway.Request{Op: gateway.Op{Kind: gateway.KindImport, Mode: req.Mode}, Customers: req.Customers}
	if decoded != nil {
		in.Input, in.Decoded = gateway.InputDecoded, decoded
	}
	return svc.Import(context.Background(), conn, in)
}

// RunRoundTrip is the yardstick: the same body decoded into canonical
// customers and the records encoded again, with encoding/json.
func RunRoundTrip(body []byte) ([]byte, error) {
	var env struct {
		Connection string            `json:"connection"`
		Mode       string            `json:"mode"`
		Customers  []schema.Customer `json:"customers"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	return json.Marshal(env.Customers)
}

// TranslatedCalls returns the bodies the gateway sends for cs on an NXLink
// connection (one per planned call), as Service.Import plans them. It fails
// when a record does not pass validation.
func TranslatedCalls(cs []schema.Customer) ([][]byte, error) {
	var (
		mu     sync.Mutex
		bodies = map[int][]byte{}
	)
	conn, err := OfflineConnection(nxlink.Name, func(c *gateway.Call) {
		mu.Lock()
		defer mu.Unlock()
		bodies[c.Records[0].Index] = c.Body
	})
	if err != nil {
		return nil, err
	}
	ans, err := RunPipeline(&gateway.Service{}, conn, ImportBody(conn.ID, cs))
	if err != nil {
		return nil, err
	}
	if ans.Succeeded != len(cs) {
		return nil, fmt.Errorf("bench.TranslatedCalls: %d of %d records passed: %+v", ans.Succeeded, len(cs), ans.Results[0])
	}
	out := make([][]byte, 0, len(bodies))
	for i := 0; i < len(cs); i++ {
		if b, ok := bodies[i]; ok {
			out = append(out, b)
		}
	}
	return out, nil
}
