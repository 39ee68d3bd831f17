package fieldconfig

import (
	"context"
	"fmt"
	"sync"
)

// Memory is an in-process Store, for a single gateway instance (no
// redis_url) and for tests. The zero value is not usable: use NewMemory.
type Memory struct {
	mu   sync.Mutex
	docs map[string]Versioned
}

// NewMemory returns an empty in-process Store.
func NewMemory() *Memory {
	return &Memory{docs: map[string]Versioned{}}
}

var (
	_ Store         = (*Memory)(nil)
	_ VersionLister = (*Memory)(nil)
)

// Get implements Store.
func (m *Memory) Get(ctx context.Context, conn string) (Versioned, error) {
	if err := ctx.Err(); err != nil {
		return Versioned{}, fmt.Errorf("fieldconfig.Memory.Get %q: %w", conn, err)
	}
	m.mu.Lock()
	v, ok := m.docs[conn]
	m.mu.Unlock()
	if !ok {
		return Versioned{}, fmt.Errorf("fieldconfig.Memory.Get %q: %w", conn, ErrNotFound)
	}
	v.Config = clone(v.Config)
	return v, nil
}

// Put implements Store.
func (m *Memory) Put(ctx context.Context, conn string, cfg Config, ifVersion int64) (Versioned, error) {
	op := fmt.Sprintf("fieldconfig.Memory.Put %q", conn)
	if err := validate(op, &cfg); err != nil {
		return Versioned{}, err
	}
	if err := ctx.Err(); err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	cfg = clone(cfg)
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.docs[conn]
	if ifVersion != 0 && ifVersion != cur.Version {
		return Versioned{}, fmt.Errorf("%s: If-Match %d, current %d: %w", op, ifVersion, cur.Version, ErrVersionMismatch)
	}
	v := Versioned{Version: cur.Version + 1, UpdatedAt: now(), Config: cfg}
	m.docs[conn] = v
	v.Config = clone(cfg)
	return v, nil
}

// Seed implements Store.
func (m *Memory) Seed(ctx context.Context, conn string, cfg Config) (Versioned, error) {
	op := fmt.Sprintf("fieldconfig.Memory.Seed %q", conn)
	if err := validate(op, &cfg); err != nil {
		return Versioned{}, err
	}
	if err := ctx.Err(); err != nil {
		return Versioned{}, fmt.Errorf("%s: %w", op, err)
	}
	cfg = clone(cfg)
	m.mu.Lock()
	v, ok := m.docs[conn]
	if !ok {
		v = Versioned{Version: 1, UpdatedAt: now(), Config: cfg}
		m.docs[conn] = v
	}
	m.mu.Unlock()
	v.Config = clone(v.Config)
	return v, nil
}

// Versions implements VersionLister.
func (m *Memory) Versions(ctx context.Context, conns []string) (map[string]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fieldconfig.Memory.Versions: %w", err)
	}
	out := make(map[string]int64, len(conns))
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range conns {
		if v, ok := m.docs[c]; ok {
			out[c] = v.Version
		}
	}
	return out, nil
}
