package history

import (
	"context"
	"sync"
	"time"
)

// Memory is a Store in this process: one instance only, lost at exit.
// Expired answers and entries are dropped as new ones come in.
type Memory struct {
	o Options

	mu        sync.Mutex
	answers   map[string]*Answer
	histories map[string][]stored // by Customer.hashTag
	order     []expiry            // answers and histories, oldest first
}

type expiry struct {
	at      time.Time
	answer  string // a request id, or
	history string // a customer's hash tag
}

// NewMemory returns an empty in-process store.
func NewMemory(o Options) *Memory {
	return &Memory{o: o.withDefaults(), answers: map[string]*Answer{}, histories: map[string][]stored{}}
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, imp Import) error {
	now := m.o.Now()
	if imp.At.IsZero() {
		imp.At = now
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if imp.RequestID != "" && imp.Answer != nil {
		m.answers[imp.RequestID] = &Answer{RequestID: imp.RequestID, App: imp.App, Connection: imp.Connection, At: imp.At,
			ContentType: imp.ContentType, Body: append([]byte(nil), imp.Answer...)}
		m.order = append(m.order, expiry{at: imp.At, answer: imp.RequestID})
	}
	for _, r := range imp.Records {
		for _, c := range customers(imp.Connection, r) {
			tag := c.hashTag()
			h := append(m.histories[tag], storedOf(imp, r))
			if len(h) > MaxPerCustomer {
				h = h[len(h)-MaxPerCustomer:]
			}
			m.histories[tag] = h
			m.order = append(m.order, expiry{at: imp.At, history: tag})
		}
	}
	return nil
}

// expire drops what is older than the retention window.
func (m *Memory) expire(now time.Time) {
	cut := now.Add(-m.o.Retention)
	n := 0
	for n < len(m.order) && !m.order[n].at.After(cut) {
		e := m.order[n]
		if e.answer != "" {
			if a, ok := m.answers[e.answer]; ok && !a.At.After(cut) {
				delete(m.answers, e.answer)
			}
		} else if h := m.histories[e.history]; len(h) > 0 {
			i := 0
			for i < len(h) && !h[i].At.After(cut) {
				i++
			}
			if i == len(h) {
				delete(m.histories, e.history)
			} else {
				m.histories[e.history] = h[i:]
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
	h := m.histories[c.hashTag()]
	out := make([]Entry, 0, len(h))
	for _, s := range h {
		if s.At.After(cut) {
			out = append(out, s.entry())
		}
	}
	return out, nil
}
