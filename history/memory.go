package history

import (
	"context"
	"sync"
	"time"

	"crmgate/schema"
)

// Memory bounds: past them the oldest answers and entries are dropped
// before their retention ends, so that one process's memory stays bounded.
// They are small on purpose: the in-process store serves one instance (the
// sandbox, a trial), and what it holds is held in the gateway's own heap,
// beside the imports in flight (gateway.md §6 bounds an import's memory);
// a deployment that keeps a week of history keeps it in Redis.
const (
	MemoryMaxAnswerBytes = 16 << 20
	MemoryMaxEntries     = 1 << 17
)

// Memory is a Store in this process: one instance only, lost at exit.
// Expired answers and entries are dropped as new ones come in, and so are
// the oldest once the answers hold MemoryMaxAnswerBytes or the histories
// MemoryMaxEntries.
//
// An entry is kept in about 200 bytes (a job of 100 000 rows leaves 100 000
// of them): what the records of one Put share (its time, app, request or
// job) is kept once for all of them, and a customer is a 16-byte key.
type Memory struct {
	o Options

	mu          sync.Mutex
	answers     map[string]*Answer
	histories   map[[16]byte][]memEntry // by Customer.key
	answerOrder []answerExpiry          // in the order they came
	order       []entryExpiry           // entries, in the order they came
	seq         uint64
	answerBytes int
	entries     int
	maxBytes    int // MemoryMaxAnswerBytes unless a test lowers it
	maxEntries  int // MemoryMaxEntries unless a test lowers it
}

// memPut is what the records of one Put share.
type memPut struct {
	at                    time.Time
	app, requestID, jobID string
}

type memEntry struct {
	put        *memPut
	seq        uint64
	index      int
	status     string
	providerID string
	errors     []schema.Issue
}

func (e *memEntry) entry() Entry {
	return stored{At: e.put.at, App: e.put.app, RequestID: e.put.requestID, JobID: e.put.jobID, Index: e.index,
		Status: e.status, Errors: e.errors, ProviderID: e.providerID}.entry()
}

type answerExpiry struct {
	at time.Time
	id string
}

type entryExpiry struct {
	put *memPut // its time
	seq uint64
	key [16]byte
}

// NewMemory returns an empty in-process store.
func NewMemory(o Options) *Memory {
	return &Memory{o: o.withDefaults(), answers: map[string]*Answer{}, histories: map[[16]byte][]memEntry{},
		maxBytes: MemoryMaxAnswerBytes, maxEntries: MemoryMaxEntries}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, imp Import) error {
	now := m.o.Now()
	if imp.At.IsZero() {
		imp.At = now
	}
	put := &memPut{at: imp.At, app: imp.App, requestID: imp.RequestID, jobID: imp.JobID}
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
	for _, r := range imp.Records {
		var cs [2]Customer
		n := 0
		if r.WhatsApp != "" {
			cs[n], n = Customer{Connection: imp.Connection, WhatsApp: r.WhatsApp}, n+1
		}
		if r.Ref != "" {
			cs[n], n = Customer{Connection: imp.Connection, Ref: r.Ref}, n+1
		}
		for _, c := range cs[:n] {
			m.seq++
			key := c.key()
			h := append(m.histories[key], memEntry{put: put, seq: m.seq, index: r.Index, status: r.Status,
				providerID: r.ProviderID, errors: r.Errors})
			m.entries++
			if len(h) > MaxPerCustomer {
				h = h[1:]
				m.entries--
			}
			m.histories[key] = h
			m.order = append(m.order, entryExpiry{put: put, seq: m.seq, key: key})
		}
	}
	m.expire(now)
	return nil
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
	n = 0
	for ; n < len(m.order); n++ {
		e := m.order[n]
		if e.put.at.After(cut) && m.entries <= m.maxEntries {
			break
		}
		if h := m.histories[e.key]; len(h) > 0 && h[0].seq == e.seq {
			m.entries--
			if len(h) == 1 {
				delete(m.histories, e.key)
			} else {
				m.histories[e.key] = h[1:]
			}
		}
	}
	m.order = m.order[n:]
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

// History implements Store.
func (m *Memory) History(_ context.Context, c Customer) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cut := m.o.Now().Add(-m.o.Retention)
	h := m.histories[c.key()]
	out := make([]Entry, 0, len(h))
	for i := range h {
		if h[i].put.at.After(cut) {
			out = append(out, h[i].entry())
		}
	}
	return out, nil
}
