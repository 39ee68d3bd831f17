package wscrm

import (
	"fmt"
	"net/http"
	"time"

	"crmgate/fieldconfig"
	"crmgate/gateway"
	"crmgate/schema"
)

// Adapter is one WSCRM connection: it implements gateway.Provider,
// gateway.PoolImporter and gateway.Querier. It is safe for concurrent use.
type Adapter struct {
	cfg    Config
	common gateway.Common
	hc     *http.Client
	base   string         // common.BaseURL without a trailing slash
	loc    *time.Location // cfg.Location(), resolved once
	header http.Header    // sent with every call: content type, and the token when set
}

var (
	_ gateway.Provider     = (*Adapter)(nil)
	_ gateway.PoolImporter = (*Adapter)(nil)
	_ gateway.Querier      = (*Adapter)(nil)
)

// Modes returns only gateway.ModeMerge: batchImport updates or adds on top
// of what WSCRM has; it cannot replace a customer or keep the old data.
func (a *Adapter) Modes() []string { return modes }

var modes = []string{gateway.ModeMerge}

// ImportPool marks the adapter as a gateway.PoolImporter.
func (a *Adapter) ImportPool() {}

// Translate turns a checked canonical record into its batchImport (or
// import-pool) record, per gateway.md §3: owner → agentAccount and whatsapp →
// whatsApp are required (missing: a required error naming the canonical
// field); birthday is sent as YYYY/MM/DD; tags and remove_tags are
// comma-joined; custom fields are top-level keys named by the field's key,
// their values CustomField.Encode'd, except single-select on the import-pool
// kinds, which is a JSON-array string. Canonical fields WSCRM has no place
// for, and remove_tags on gateway.KindPoolAppend, are unsupported_field
// warnings (errors with op.Strict). The wire form is opaque to the caller;
// hand it back to Plan.
func (a *Adapter) Translate(op gateway.Op, k fieldconfig.Checked) (any, []schema.Issue, []schema.Issue) {
	rec, errs, warns := translate(op, k)
	return rec, errs, warns
}

// Plan groups translated records into calls of at most 10 000 records, each
// body {"tenantId": N, "data": [...]} marshalled once:
//
//   - gateway.KindImport (mode merge only): batchImport.
//   - gateway.KindPoolAppend: batchImportAppendV2.
//   - gateway.KindPoolReplace: records are grouped by agent (agentAccount).
//     Agents whose records fit are packed together, whole, into
//     batchImportWhatsContact calls (each replaces the pool of every agent it
//     carries, and only theirs). An agent with more than 10 000 records gets a
//     batchImportWhatsContact call with its first 10 000 and
//     batchImportAppendV2 calls with the rest, so its pool ends holding exactly
//     the batch.
//
// ORDERING: the append calls of an agent in a replace plan must be sent only
// after that agent's replace call went through; sent earlier, the replace
// would discard them. Those calls share a gateway.Call.Sequence
// ("agent:" + the account), in that order, so the import service sends them
// one after another and not at all once one did not go through. All other
// calls have no Sequence and are independent.
//
// A record whose Wire is not this adapter's is an error. Plan trusts op (the
// import service's gate let only an import in merge mode or a pool
// operation through): an import of any mode is planned as batchImport.
func (a *Adapter) Plan(op gateway.Op, recs []gateway.Record) ([]gateway.Call, error) {
	for i := range recs {
		if w, ok := recs[i].Wire.(*wireRecord); !ok || w == nil {
			return nil, fmt.Errorf("wscrm.Plan: record %d was not translated by this adapter", recs[i].Index)
		}
	}
	if len(recs) == 0 {
		return nil, nil
	}
	switch op.Kind {
	case gateway.KindPoolAppend:
		return a.chunk(PathPoolAppend, recs)
	case gateway.KindPoolReplace:
		return a.planReplace(recs)
	}
	return a.chunk(PathBatchImport, recs)
}

// chunk splits recs into calls of at most MaxRecordsPerCall to path.
func (a *Adapter) chunk(path string, recs []gateway.Record) ([]gateway.Call, error) {
	var calls []gateway.Call
	for start := 0; start < len(recs); start += MaxRecordsPerCall {
		end := min(start+MaxRecordsPerCall, len(recs))
		call, err := a.call(path, recs[start:end])
		if err != nil {
			return nil, err
		}
		calls = append(calls, call)
	}
	return calls, nil
}

// planReplace is Plan for gateway.KindPoolReplace.
func (a *Adapter) planReplace(recs []gateway.Record) ([]gateway.Call, error) {
	var agents []string
	byAgent := map[string][]gateway.Record{}
	for _, r := range recs {
		agent := r.Wire.(*wireRecord).basic[keyAgentAccount]
		if _, ok := byAgent[agent]; !ok {
			agents = append(agents, agent)
		}
		byAgent[agent] = append(byAgent[agent], r)
	}
	var calls []gateway.Call
	var packed []gateway.Record
	flush := func() error {
		if len(packed) == 0 {
			return nil
		}
		call, err := a.call(PathPoolReplace, packed)
		if err != nil {
			return err
		}
		calls = append(calls, call)
		packed = nil
		return nil
	}
	for _, agent := range agents {
		rs := byAgent[agent]
		if len(rs) <= MaxRecordsPerCall {
			if len(packed)+len(rs) > MaxRecordsPerCall {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			packed = append(packed, rs...)
			continue
		}
		first, err := a.call(PathPoolReplace, rs[:MaxRecordsPerCall])
		if err != nil {
			return nil, err
		}
		rest, err := a.chunk(PathPoolAppend, rs[MaxRecordsPerCall:])
		if err != nil {
			return nil, err
		}
		seq := append([]gateway.Call{first}, rest...)
		for i := range seq {
			seq[i].Sequence = "agent:" + agent
		}
		calls = append(calls, seq...)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return calls, nil
}

// call builds one call: the body is marshalled here, once.
func (a *Adapter) call(path string, recs []gateway.Record) (gateway.Call, error) {
	data := make([]*wireRecord, len(recs))
	for i, r := range recs {
		data[i] = r.Wire.(*wireRecord)
	}
	body := appendImportBody(make([]byte, 0, 64+len(recs)*320), a.cfg.TenantID, data)
	return gateway.Call{Method: http.MethodPost, Path: path, Body: body, Records: recs}, nil
}

// ChunkSize is how many records one WSCRM call carries (gateway.Chunker).
func (a *Adapter) ChunkSize(gateway.Op) int { return MaxRecordsPerCall }
