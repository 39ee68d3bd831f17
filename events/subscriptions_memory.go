package events

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemorySubscriptions is the in-process DeliveryStore that goes with a
// MemoryStore: subscriptions, secrets and progress live in this process only.
// It is safe for concurrent use.
type MemorySubscriptions struct {
	events *MemoryStore

	mu   sync.Mutex
	subs map[string]*memSub
}

type memSub struct {
	sub        Subscription
	secret     string
	state      progress
	failures   map[string]Failure
	redeliver  []Failure
	leaseToken string
	leaseUntil time.Time
}

// NewMemorySubscriptions returns an empty subscription store whose
// subscriptions start at the current end of events. A nil events is refused.
func NewMemorySubscriptions(events *MemoryStore) (*MemorySubscriptions, error) {
	if events == nil {
		return nil, fmt.Errorf("events.NewMemorySubscriptions: nil event store")
	}
	return &MemorySubscriptions{events: events, subs: map[string]*memSub{}}, nil
}

func (m *MemorySubscriptions) now() time.Time { return m.events.opts.Now() }

// Create implements SubscriptionStore.
func (m *MemorySubscriptions) Create(ctx context.Context, s Subscription) (Subscription, string, error) {
	s, secret, err := prepare(s, m.now())
	if err != nil {
		return Subscription{}, "", fmt.Errorf("events.MemorySubscriptions.Create: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs[s.ID] = &memSub{sub: s, secret: secret, state: progress{Cursor: m.events.head()}, failures: map[string]Failure{}}
	return cloneSub(s), secret, nil
}

func cloneSub(s Subscription) Subscription {
	s.Types = append([]string{}, s.Types...)
	s.Connections = append([]string{}, s.Connections...)
	return s
}

// List implements SubscriptionStore.
func (m *MemorySubscriptions) List(ctx context.Context) ([]Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Subscription, 0, len(m.subs))
	for _, s := range m.subs {
		out = append(out, cloneSub(s.sub))
	}
	sortSubscriptions(out)
	return out, nil
}

func (m *MemorySubscriptions) getLocked(op, id string) (*memSub, error) {
	s, ok := m.subs[id]
	if !ok {
		return nil, fmt.Errorf("events.MemorySubscriptions.%s: subscription %q: %w", op, id, ErrNotFound)
	}
	return s, nil
}

// Get implements SubscriptionStore.
func (m *MemorySubscriptions) Get(ctx context.Context, id string) (Subscription, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("Get", id)
	if err != nil {
		return Subscription{}, err
	}
	return cloneSub(s.sub), nil
}

// Delete implements SubscriptionStore.
func (m *MemorySubscriptions) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.getLocked("Delete", id); err != nil {
		return err
	}
	delete(m.subs, id)
	return nil
}

// Failures implements SubscriptionStore.
func (m *MemorySubscriptions) Failures(ctx context.Context, subID string) ([]Failure, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("Failures", subID)
	if err != nil {
		return nil, err
	}
	out := make([]Failure, 0, len(s.failures))
	for _, f := range s.failures {
		out = append(out, f)
	}
	sortFailures(out)
	return out, nil
}

// Redeliver implements SubscriptionStore.
func (m *MemorySubscriptions) Redeliver(ctx context.Context, subID, eventID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("Redeliver", subID)
	if err != nil {
		return err
	}
	var found []Failure
	for k, f := range s.failures {
		if f.Event.ID == eventID {
			found = append(found, f)
			delete(s.failures, k)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("events.MemorySubscriptions.Redeliver: failed event %q: %w", eventID, ErrNotFound)
	}
	sortFailures(found)
	s.redeliver = append(s.redeliver, found...)
	return nil
}

func (m *MemorySubscriptions) secret(ctx context.Context, subID string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("secret", subID)
	if err != nil {
		return "", err
	}
	return s.secret, nil
}

func (m *MemorySubscriptions) acquire(ctx context.Context, subID, token string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("acquire", subID)
	if err != nil {
		return false, err
	}
	now := m.now()
	if s.leaseToken != token && s.leaseToken != "" && now.Before(s.leaseUntil) {
		return false, nil
	}
	s.leaseToken, s.leaseUntil = token, now.Add(ttl)
	return true, nil
}

func (m *MemorySubscriptions) release(ctx context.Context, subID, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.subs[subID]; ok && s.leaseToken == token {
		s.leaseToken = ""
	}
	return nil
}

func (m *MemorySubscriptions) load(ctx context.Context, subID string) (progress, *Failure, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.getLocked("load", subID)
	if err != nil {
		return progress{}, nil, err
	}
	var head *Failure
	if len(s.redeliver) > 0 {
		f := s.redeliver[0]
		head = &f
	}
	return s.state, head, nil
}

func (m *MemorySubscriptions) commit(ctx context.Context, subID, token string, c commitOp) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.subs[subID]
	if !ok || s.leaseToken != token {
		return errLeaseLost
	}
	s.state = c.state
	if c.popRedeliver && len(s.redeliver) > 0 {
		s.redeliver = s.redeliver[1:]
	}
	if c.failure != nil {
		s.failures[failureKey(&c.failure.Event)] = *c.failure
	}
	return nil
}
