package history

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"sync"
	"time"
)

// Memory bounds: past them the oldest answers and entries are dropped
// before their retention ends, so that one process's memory stays bounded.
// They are small on purpose: the in-process store serves one instance (the
// sandbox, a trial), and what it holds is held in the gateway's own heap,
// beside the imports in flight. gateway.md §6 bounds a 10 000-record
// import's memory at 100 MB: with this store and the Idempotency-Key store
// (idempotency.MemoryMaxBytes) full, such an import peaks near 86 MB, where
// bounds four times as large took it to 115–124 (make bench's "in-process
// stores full" figure). A
// deployment that keeps a week of history keeps it in Redis.
const (
	MemoryMaxAnswerBytes = 4 << 20
	MemoryMaxEntries     = 1 << 15
)

// Memory is a Store in this process: one instance only, lost at exit.
// Expired answers and entries are dropped as new ones come in, and so are
// the oldest once the answers hold MemoryMaxAnswerBytes or the histories
// MemoryMaxEntries. A customer's history answers its newest MaxPerCustomer
// entries.
//
// An entry is kept in about 110 bytes (a job of 100 000 rows leaves 200 000
// of them, a record being filed under its number and its ref, and
// MemoryMaxEntries of them are 3.5 MiB): the entries are slots
// of one ring, oldest first, each linked to its customer's previous one;
// what the records of one Put share (its time, app, request or job) is kept
// once for all of them, with their own fields (index, status, provider id,
// errors) encoded in one buffer; a customer is a 16-byte key.
type Memory struct {
	o Options

	mu          sync.Mutex
	answers     map[string]*Answer
	answerOrder []answerExpiry // in the order they came
	answerBytes int

	ring    []memSlot // entry seq is ring[seq % len(ring)], for first <= seq < first+entries
	first   uint64    // the oldest entry's seq (seqs start at 1)
	entries int
	last    map[memKey]uint64 // a customer's newest entry
	seeds   [2]maphash.Seed   // of memKey

	maxBytes   int // MemoryMaxAnswerBytes unless a test lowers it
	maxEntries int // MemoryMaxEntries unless a test lowers it
}

// memPut is what the records of one Put share, and the records' own
// fields, encoded one after the other (appendRecord).
type memPut struct {
	at                    time.Time
	app, requestID, jobID string
	records               []byte
}

// memSlot is one entry: its customer, the customer's previous entry (its
// seq; 0 for none) and its record, at off in put.records.
type memSlot struct {
	put  *memPut
	prev uint64
	key  memKey
	off  uint32
}

type answerExpiry struct {
	at time.Time
	id string
}

// NewMemory returns an empty in-process store.
func NewMemory(o Options) *Memory {
	return &Memory{o: o.withDefaults(), answers: map[string]*Answer{}, last: map[memKey]uint64{}, first: 1,
		seeds:    [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		maxBytes: MemoryMaxAnswerBytes, maxEntries: MemoryMaxEntries}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, imp Import) error {
	now := m.o.Now()
	if imp.At.IsZero() {
		imp.At = now
	}
	put := &memPut{at: imp.At, app: imp.App, requestID: imp.RequestID, jobID: imp.JobID}
	// The records' bytes in one allocation (recordSize), and their offsets
	// on the stack for the usual small import.
	size := 0
	for i := range imp.Records {
		size += recordSize(&imp.Records[i])
	}
	put.records = make([]byte, 0, size)
	var small [16]uint32
	offs := small[:0]
	if len(imp.Records) > len(small) {
		offs = make([]uint32, 0, len(imp.Records))
	}
	for _, r := range imp.Records {
		offs = append(offs, uint32(len(put.records)))
		put.records = appendRecord(put.records, r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if imp.RequestID != "" && imp.Answer != nil {
		if old, ok := m.answers[imp.RequestID]; ok {
			m.answerBytes -= len(old.Body)
		}
		m.answers[imp.RequestID] = &Answer{RequestID: imp.RequestID, App: imp.App, Connection: imp.Connection, At: imp.At,
			ContentType: imp.ContentType, Body: append([]byte(nil), imp.Answer...)}
		m.answerBytes += len(imp.Answer)
		m.answerOrder = append(m.answerOrder, answerExpiry{at: imp.At, id: imp.RequestID})
	}
	for i, r := range imp.Records {
		if r.WhatsApp != "" {
			m.push(memSlot{put: put, key: m.key(Customer{Connection: imp.Connection, WhatsApp: r.WhatsApp}), off: offs[i]})
		}
		if r.Ref != "" {
			m.push(memSlot{put: put, key: m.key(Customer{Connection: imp.Connection, Ref: r.Ref}), off: offs[i]})
		}
	}
	m.expire(now)
	return nil
}

// memKey names a customer in a Memory: two 64-bit hashes of what
// Customer.key hashes, under the Memory's own random seeds. Nothing outside
// the process sees it, so it need not be Customer.key's SHA-256 (a tenth of
// a record's history cost), only as unlikely to collide.
type memKey [2]uint64

func (m *Memory) key(c Customer) memKey {
	var buf [128]byte // the usual lengths on the stack
	b := c.appendIdentity(buf[:0])
	return memKey{maphash.Bytes(m.seeds[0], b), maphash.Bytes(m.seeds[1], b)}
}

func (m *Memory) slot(seq uint64) *memSlot { return &m.ring[seq%uint64(len(m.ring))] }

// push adds the newest entry, making room in the ring: it grows up to
// maxEntries slots, then the oldest entry goes.
func (m *Memory) push(s memSlot) {
	if m.entries == len(m.ring) {
		if len(m.ring) < m.maxEntries {
			ring := make([]memSlot, min(max(2*len(m.ring), 1024), m.maxEntries))
			for seq := m.first; seq < m.first+uint64(m.entries); seq++ {
				ring[seq%uint64(len(ring))] = *m.slot(seq)
			}
			m.ring = ring
		} else {
			m.dropOldest()
		}
	}
	seq := m.first + uint64(m.entries)
	s.prev = m.last[s.key]
	*m.slot(seq) = s
	m.entries++
	m.last[s.key] = seq
}

func (m *Memory) dropOldest() {
	s := m.slot(m.first)
	if m.last[s.key] == m.first {
		delete(m.last, s.key)
	}
	*s = memSlot{}
	m.first++
	m.entries--
}

// expire drops, oldest first, what is past the retention window or over
// the bounds.
func (m *Memory) expire(now time.Time) {
	cut := now.Add(-m.o.Retention)
	n := 0
	for ; n < len(m.answerOrder); n++ {
		e := m.answerOrder[n]
		if e.at.After(cut) && m.answerBytes <= m.maxBytes {
			break
		}
		if a, ok := m.answers[e.id]; ok && a.At.Equal(e.at) {
			m.answerBytes -= len(a.Body)
			delete(m.answers, e.id)
		}
	}
	m.answerOrder = m.answerOrder[n:]
	for m.entries > 0 && (!m.slot(m.first).put.at.After(cut) || m.entries > m.maxEntries) {
		m.dropOldest()
	}
}

// Answer implements Store.
func (m *Memory) Answer(_ context.Context, requestID string) (*Answer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.answers[requestID]
	if !ok || !a.At.After(m.o.Now().Add(-m.o.Retention)) {
		return nil, ErrNotFound
	}
	cp := *a
	cp.Body = append([]byte(nil), a.Body...)
	return &cp, nil
}

// History implements Store: the customer's entries newest first, at most
// MaxPerCustomer.
func (m *Memory) History(_ context.Context, c Customer) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cut := m.o.Now().Add(-m.o.Retention)
	var out []Entry
	for seq := m.last[m.key(c)]; seq >= m.first && len(out) < MaxPerCustomer; {
		s := m.slot(seq)
		if s.put.at.After(cut) {
			e, err := readRecord(s.put, s.off)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		seq = s.prev
	}
	if out == nil {
		out = []Entry{}
	}
	return out, nil
}

// statuses are the record statuses appendRecord writes as one byte (their
// index + 1); 0 is followed by any other status.
var statuses = [...]string{"succeeded", "failed", "unknown", "valid"}

// appendRecord encodes what an entry holds of its record: its index, its
// status, its provider id and its errors (JSON, none when empty).
func appendRecord(b []byte, r Record) []byte {
	b = binary.AppendUvarint(b, uint64(r.Index))
	code := statusCode(r.Status)
	b = append(b, code)
	if code == 0 {
		b = appendBytes(b, []byte(r.Status))
	}
	b = appendBytes(b, []byte(r.ProviderID))
	var errs []byte
	if len(r.Errors) > 0 {
		errs, _ = json.Marshal(r.Errors) // issues are strings: they always marshal
	}
	return appendBytes(b, errs)
}

// recordSize is what appendRecord appends for r, exactly for a record
// without errors; errors, marshalled only then, are counted at 128 bytes an
// issue (an append past it grows the buffer).
func recordSize(r *Record) int {
	n := uvarintLen(uint64(r.Index)) + 1
	if statusCode(r.Status) == 0 {
		n += uvarintLen(uint64(len(r.Status))) + len(r.Status)
	}
	n += uvarintLen(uint64(len(r.ProviderID))) + len(r.ProviderID)
	if len(r.Errors) == 0 {
		return n + 1
	}
	return n + binary.MaxVarintLen32 + 128*len(r.Errors)
}

// uvarintLen is the length of x as binary.AppendUvarint writes it.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// statusCode is the byte appendRecord writes for status: its index in
// statuses + 1, or 0 for another status, written after it.
func statusCode(status string) byte {
	for i, s := range statuses {
		if status == s {
			return byte(i + 1)
		}
	}
	return 0
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// readRecord decodes the entry whose record is at off in p.records.
func readRecord(p *memPut, off uint32) (Entry, error) {
	b := p.records[off:]
	next := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			b = nil
			return nil
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v
	}
	index, k := binary.Uvarint(b)
	if k <= 0 || len(b) == k {
		return Entry{}, errBadRecord
	}
	code := b[k]
	b = b[k+1:]
	st := stored{At: p.at, App: p.app, RequestID: p.requestID, JobID: p.jobID, Index: int(index)}
	if code > 0 && int(code) <= len(statuses) {
		st.Status = statuses[code-1]
	} else {
		st.Status = string(next())
	}
	st.ProviderID = string(next())
	if errs := next(); len(errs) > 0 {
		if err := json.Unmarshal(errs, &st.Errors); err != nil {
			return Entry{}, errBadRecord
		}
	}
	if b == nil {
		return Entry{}, errBadRecord
	}
	return st.entry(), nil
}
