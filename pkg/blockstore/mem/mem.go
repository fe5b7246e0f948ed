// Package mem is an in-memory block store for tests.
package mem

import (
	"context"
	"strings"
	"sync"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Store keeps blocks in a map.
type Store struct {
	name  string
	total int64
	mu    sync.RWMutex
	data  map[string][]byte
	used  int64
}

// New returns an empty store; total 0 means unbounded.
func New(name string, total int64) *Store {
	return &Store{name: name, total: total, data: map[string][]byte{}}
}

// Name implements blockstore.Store.
func (s *Store) Name() string { return s.name }

// Put implements blockstore.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.name, "put", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := int64(len(s.data[key]))
	if s.total > 0 && s.used-old+int64(len(data)) > s.total {
		return blockstore.Errorf(blockstore.ErrNoSpace, s.name, "put", key, nil)
	}
	s.data[key] = append([]byte(nil), data...)
	s.used += int64(len(data)) - old
	return nil
}

// Get implements blockstore.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.data[key]
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrNotFound, s.name, "get", key, nil)
	}
	return append([]byte(nil), d...), nil
}

// Stat implements blockstore.Store.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.data[key]
	if !ok {
		return 0, blockstore.Errorf(blockstore.ErrNotFound, s.name, "stat", key, nil)
	}
	return int64(len(d)), nil
}

// Delete implements blockstore.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used -= int64(len(s.data[key]))
	delete(s.data, key)
	return nil
}

// List implements blockstore.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(string) error) error {
	s.mu.RLock()
	var keys []string
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	s.mu.RUnlock()
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// Capacity implements blockstore.Store.
func (s *Store) Capacity(ctx context.Context) (blockstore.Capacity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return blockstore.Capacity{Total: s.total, Used: s.used}, ctx.Err()
}

// Corrupt flips a byte of a block (tests of integrity checking).
func (s *Store) Corrupt(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.data[key]
	if !ok || len(d) == 0 {
		return false
	}
	d[len(d)/2] ^= 0xff
	return true
}
