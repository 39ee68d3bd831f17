// Package idempotency remembers the answers of write requests by their
// Idempotency-Key, so that a caller retrying after a timeout gets the first
// answer again instead of a second import. Keys are kept for 24 hours.
//
// A key moves through two states: in flight (a request holds its claim) and
// done (the answer is stored). A claim is a lease: it lasts Options.Lease
// (DefaultLease, 10 s) and the request holding it renews it while it runs
// (Keep, every third of the lease), so a claim whose owner died ends within
// seconds and a retry can take the key over. While it holds the key, the
// request writes what it learns into the key's journal (Record: for an import,
// each provider call's outcomes as they come back); a retry with the same
// fingerprint that takes an abandoned key over gets that journal back with
// its claim (Claim.Journal) and can skip what was already answered. The
// journal lives with the key and is dropped when the key is answered,
// released, or taken over by another request body.
//
// The fingerprint of the request (a hash of its caller, path and body) is
// kept with the key: the same key with another fingerprint is a conflict,
// never a replay.
package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"time"

	"crmgate/redisclient"
)

// Defaults.
const (
	// DefaultTTL is how long a key, its answer and its journal are kept.
	DefaultTTL = 24 * time.Hour
	// DefaultLease is how long a claim lasts without renewal: how long a
	// retry is answered 409 after the request holding the key died.
	DefaultLease = 10 * time.Second
)

// Errors of the stores.
var (
	// ErrInFlight: the first request with this key is still running.
	ErrInFlight = errors.New("idempotency: a request with this key is still running")
	// ErrMismatch: the key was used with another request body.
	ErrMismatch = errors.New("idempotency: the key was used with a different request")
	// ErrNotHeld: the claim was taken over by another request (this one's
	// lease had lapsed) or the key is answered; nothing was stored.
	ErrNotHeld = errors.New("idempotency: the key is no longer held by this request")
)

// Answer is a stored response.
type Answer struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        []byte `json:"body"`
}

// Claim is a key held by one request.
type Claim struct {
	Key   string
	FP    string
	Owner string        // this claim's own token: a takeover gives a new one
	Lease time.Duration // how long the claim lasts unless renewed
	// Journal holds the entries Recorded under the key by an earlier holder
	// with the same fingerprint whose lease lapsed, oldest first; empty for
	// a fresh key.
	Journal [][]byte
}

// Store remembers answers by key.
type Store interface {
	// Begin claims key for a request with fingerprint fp. It returns the
	// stored answer when the key is done with the same fp (replay); a Claim
	// when the caller now holds the key and must Complete or Release it
	// (renewing it with Keep meanwhile); ErrInFlight or ErrMismatch while
	// another request's lease lives or the key was answered for another fp.
	Begin(ctx context.Context, key, fp string) (*Answer, *Claim, error)
	// Renew extends the claim's lease by Claim.Lease; ErrNotHeld when
	// another request took the key over or it was answered.
	Renew(ctx context.Context, c *Claim) error
	// Record appends one entry to the key's journal while c holds the key;
	// ErrNotHeld otherwise (nothing is written).
	Record(ctx context.Context, c *Claim, entry []byte) error
	// Complete stores the answer and drops the journal, while c holds the
	// key (or the key is gone); otherwise ErrNotHeld.
	Complete(ctx context.Context, c *Claim, a Answer) error
	// Release gives up a held key without an answer (the request failed as
	// a whole and may be sent again with the same key); its journal goes too.
	Release(ctx context.Context, c *Claim) error
}

// Keep renews c in the background every third of its lease until stop is
// called or ctx ends. When the key turns out to be held by another request,
// lost is called once and renewal ends; a store that cannot be reached is
// tried again at the next tick (the lease outlives two missed renewals).
func Keep(ctx context.Context, s Store, c *Claim, lost func()) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(c.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(ctx, max(c.Lease/3, time.Millisecond))
			err := s.Renew(rctx, c)
			rcancel()
			if errors.Is(err, ErrNotHeld) {
				if lost != nil {
					lost()
				}
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Fingerprint hashes what makes two requests the same.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		for i, l := 0, len(p); i < 8; i, l = i+1, l>>8 {
			n[i] = byte(l)
		}
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Options configure a store.
type Options struct {
	TTL    time.Duration // how long keys, answers and journals are kept (DefaultTTL)
	Lease  time.Duration // how long a claim lasts unless renewed (DefaultLease)
	Prefix string        // Redis key prefix (redisclient.DefaultPrefix)
	Now    func() time.Time
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	o.Prefix = redisclient.Prefix(o.Prefix)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// MemoryMaxBytes bounds what a Memory holds: its entries' answers, journals
// and keys, each entry counted with memEntryOverhead besides. Past it the
// oldest entries whose request is over (answered, or its lease lapsed) are
// dropped before their TTL ends, and a retry with such a key is sent again.
// One process's memory stays bounded whatever its callers send (and within
// gateway.md §6 beside history's in-process bounds: see
// history.MemoryMaxAnswerBytes); a deployment that keeps every key its
// whole TTL keeps them in Redis.
const MemoryMaxBytes = 4 << 20

// memEntryOverhead is what an entry costs besides its bytes: the entry, its
// map slot and its place in the order.
const memEntryOverhead = 256

// Memory is an in-process Store (one instance only; nothing survives a
// restart of the process), holding at most MemoryMaxBytes.
type Memory struct {
	o     Options
	mu    sync.Mutex
	m     map[string]*memEntry
	swept time.Time

	order    []memRef // every entry put, oldest first; a ref whose entry was replaced or removed is stale
	seq      uint64   // of the newest entry
	bytes    int      // the entries' sizes
	maxBytes int      // MemoryMaxBytes unless a test lowers it
}

type memEntry struct {
	fp         string
	done       bool
	answer     Answer
	owner      string
	leaseUntil time.Time
	journal    [][]byte
	expires    time.Time

	seq  uint64 // the entry's place in the order
	size int    // what it counts toward MemoryMaxBytes
}

// memRef is an entry's place in the order.
type memRef struct {
	key string
	seq uint64
}

// NewMemory returns an in-process Store.
func NewMemory(o Options) *Memory {
	return &Memory{o: o.withDefaults(), m: map[string]*memEntry{}, maxBytes: MemoryMaxBytes}
}

// live returns the key's entry unless it is absent or expired.
func (s *Memory) live(key string, now time.Time) *memEntry {
	if e, ok := s.m[key]; ok && now.Before(e.expires) {
		return e
	}
	return nil
}

// put stores e under key, in place of the key's entry if any, and drops the
// oldest entries that are over while the store holds more than its bound.
func (s *Memory) put(key string, e *memEntry, now time.Time) {
	s.remove(key)
	s.seq++
	e.seq = s.seq
	e.size = memEntryOverhead + len(key) + len(e.fp) + len(e.owner) + len(e.answer.ContentType) + len(e.answer.Body)
	for _, j := range e.journal {
		e.size += len(j)
	}
	s.m[key] = e
	s.bytes += e.size
	s.order = append(s.order, memRef{key: key, seq: e.seq})
	s.shrink(now)
}

// remove drops the key's entry, if any.
func (s *Memory) remove(key string) {
	if e, ok := s.m[key]; ok {
		s.bytes -= e.size
		delete(s.m, key)
	}
}

// shrink drops, oldest first, the entries whose request is over until the
// store is within its bound; a running request's entry is kept (it moves to
// the back of the order). Stale refs go on the way, and the order is
// compacted when they are most of it.
func (s *Memory) shrink(now time.Time) {
	for n := len(s.order); s.bytes > s.maxBytes && n > 0; n-- {
		r := s.order[0]
		s.order = s.order[1:]
		e, ok := s.m[r.key]
		switch {
		case !ok || e.seq != r.seq:
		case !e.done && now.Before(e.leaseUntil):
			s.order = append(s.order, r)
		default:
			s.remove(r.key)
		}
	}
	if len(s.order) > 2*len(s.m)+64 {
		s.order = slices.DeleteFunc(s.order, func(r memRef) bool {
			e, ok := s.m[r.key]
			return !ok || e.seq != r.seq
		})
	}
}

// Begin implements Store.
func (s *Memory) Begin(_ context.Context, key, fp string) (*Answer, *Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	var journal [][]byte
	if e := s.live(key, now); e != nil {
		switch {
		case e.done && e.fp == fp:
			a := e.answer
			a.Body = slices.Clone(a.Body)
			return &a, nil, nil
		case e.done || (now.Before(e.leaseUntil) && e.fp != fp):
			return nil, nil, ErrMismatch
		case now.Before(e.leaseUntil):
			return nil, nil, ErrInFlight
		case e.fp == fp:
			journal = e.journal
		}
	}
	if now.Sub(s.swept) > time.Minute {
		s.swept = now
		for k, e := range s.m {
			if !now.Before(e.expires) {
				s.remove(k)
			}
		}
	}
	c := &Claim{Key: key, FP: fp, Owner: newOwner(), Lease: s.o.Lease, Journal: cloneEntries(journal)}
	s.put(key, &memEntry{fp: fp, owner: c.Owner, leaseUntil: now.Add(s.o.Lease), journal: journal, expires: now.Add(s.o.TTL)}, now)
	return nil, c, nil
}

// held returns c's entry while c holds it.
func (s *Memory) held(c *Claim, now time.Time) *memEntry {
	if e := s.live(c.Key, now); e != nil && !e.done && e.owner == c.Owner {
		return e
	}
	return nil
}

// Renew implements Store.
func (s *Memory) Renew(_ context.Context, c *Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	e := s.held(c, now)
	if e == nil {
		return ErrNotHeld
	}
	e.leaseUntil = now.Add(s.o.Lease)
	return nil
}

// Record implements Store.
func (s *Memory) Record(_ context.Context, c *Claim, entry []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	e := s.held(c, now)
	if e == nil {
		return ErrNotHeld
	}
	e.journal = append(e.journal, slices.Clone(entry))
	e.size += len(entry)
	s.bytes += len(entry)
	s.shrink(now)
	return nil
}

// Complete implements Store.
func (s *Memory) Complete(_ context.Context, c *Claim, a Answer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.o.Now()
	if s.live(c.Key, now) != nil && s.held(c, now) == nil {
		return ErrNotHeld
	}
	a.Body = slices.Clone(a.Body)
	s.put(c.Key, &memEntry{fp: c.FP, done: true, answer: a, expires: now.Add(s.o.TTL)}, now)
	return nil
}

// Release implements Store.
func (s *Memory) Release(_ context.Context, c *Claim) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held(c, s.o.Now()) != nil {
		s.remove(c.Key)
	}
	return nil
}

func cloneEntries(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, e := range in {
		out[i] = slices.Clone(e)
	}
	return out
}
