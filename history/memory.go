package history

import (
	"context"
	"sync"
	"time"
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
type Memory struct {
	o Options

	mu          sync.Mutex
	answers     map[string]*Answer
	histories   map[string][]memEntry // by Customer.memoryKey
	order       []expiry              // answers and entries, in the order they came
	seq         uint64
	answerBytes int
	entries     int
	maxBytes    int // MemoryMaxAnswerBytes unless a test lowers it
	maxEntries  int // MemoryMaxEntries unless a test lowers it
}

type memEntry struct {
	stored
	seq uint64
}

type expiry struct {
	at      time.Time
	seq     uint64
	answer  string // a request id, or
	history string // a customer's memoryKey
}

// NewMemory returns an empty in-process store.
func NewMemory(o Options) *Memory {
	return &Memory{o: o.withDefaults(), answers: map[string]*Answer{}, histories: map[string][]memEntry{},
		maxBytes: MemoryMaxAnswerBytes, maxEntries: MemoryMaxEntries}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, imp Import) error {
	now := m.o.Now()
	if imp.At.IsZero() {
		imp.At = now
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if imp.RequestID != "" && imp.Answer != nil {
		m.seq++
		if old, ok := m.answers[imp.RequestID]; ok {
			m.answerBytes -= len(old.Body)
		}
		m.answers[imp.RequestID] = &Answer{RequestID: imp.RequestID, App: imp.App, Connection: imp.Connection, At: imp.At,
			ContentType: imp.ContentType, Body: append([]byte(nil), imp.Answer...)}
		m.answerBytes += len(imp.Answer)
		m.order = append(m.order, expiry{at: imp.At, seq: m.seq, answer: imp.RequestID})
	}
	for _, r := range imp.Records {
		for _, c := range customers(imp.Connection, r) {
			m.seq++
			tag := c.memoryKey()
			h := append(m.histories[tag], memEntry{stored: storedOf(imp, r), seq: m.seq})
			m.entries++
			if len(h) > MaxPerCustomer {
				h = h[1:]
				m.entries--
			}
			m.histories[tag] = h
			m.order = append(m.order, expiry{at: imp.At, seq: m.seq, history: tag})
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
	for n < len(m.order) {
		e := m.order[n]
		if e.at.After(cut) && m.answerBytes <= m.maxBytes && m.entries <= m.maxEntries {
			break
		}
		if e.answer != "" {
			if a, ok := m.answers[e.answer]; ok && a.At.Equal(e.at) {
				m.answerBytes -= len(a.Body)
				delete(m.answers, e.answer)
			}
		} else if h := m.histories[e.history]; len(h) > 0 && h[0].seq == e.seq {
			m.entries--
			if len(h) == 1 {
				delete(m.histories, e.history)
			} else {
				m.histories[e.history] = h[1:]
			}
		}
		n++
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
	h := m.histories[c.memoryKey()]
	out := make([]Entry, 0, len(h))
	for _, s := range h {
		if s.At.After(cut) {
			out = append(out, s.entry())
		}
	}
	return out, nil
}
