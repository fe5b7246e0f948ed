// Package mem is an in-memory block store for tests.
package mem

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Store keeps blocks and extents in maps.
type Store struct {
	name    string
	total   int64
	mu      sync.RWMutex
	data    map[string][]byte
	extents map[string]extent
	used    int64
}

// extent holds an extent's blocks by offset (sparse, like a file with
// holes).
type extent map[int64][]byte

func (x extent) size() int64 {
	var n int64
	for _, b := range x {
		n += int64(len(b))
	}
	return n
}

// find returns the n bytes at off, if one block holds them.
func (x extent) find(off int64, n int) ([]byte, bool) {
	for o, b := range x {
		if off >= o && off+int64(n) <= o+int64(len(b)) {
			return b[off-o : off-o+int64(n)], true
		}
	}
	return nil, false
}

// New returns an empty store; total 0 means unbounded.
func New(name string, total int64) *Store {
	return &Store{name: name, total: total, data: map[string][]byte{}, extents: map[string]extent{}}
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
	s.used -= int64(len(s.data[key])) + s.extents[key].size()
	delete(s.data, key)
	delete(s.extents, key)
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
	for k := range s.extents {
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

// Corrupt flips the byte at off of a block or extent (tests of integrity
// checking); false when there is no such byte.
func (s *Store) Corrupt(key string, off int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.data[key]; ok && off >= 0 && off < int64(len(d)) {
		d[off] ^= 0xff
		return true
	}
	if b, ok := s.extents[key].find(off, 1); ok {
		b[0] ^= 0xff
		return true
	}
	return false
}

// CreateExtent implements blockstore.Extents.
func (s *Store) CreateExtent(ctx context.Context, key string) (blockstore.ExtentWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.name, "create extent", key, err)
	}
	return &extentWriter{s: s, key: key, data: extent{}}, nil
}

type extentWriter struct {
	s    *Store
	key  string
	mu   sync.Mutex
	data extent
	// charged is what the writes count against the store's capacity.
	charged int64
	done    bool
}

func (w *extentWriter) WriteAt(ctx context.Context, p []byte, off int64) error {
	if err := blockstore.CheckExtentWrite(ctx, w.s.name, w.key, off); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return blockstore.Errorf(blockstore.ErrPermanent, w.s.name, "write extent", w.key, errClosed)
	}
	n := int64(len(p))
	w.s.mu.Lock()
	if w.s.total > 0 && w.s.used+n > w.s.total {
		w.s.mu.Unlock()
		return blockstore.Errorf(blockstore.ErrNoSpace, w.s.name, "write extent", w.key, nil)
	}
	w.s.used += n
	w.s.mu.Unlock()
	w.charged += n
	w.data[off] = append([]byte(nil), p...)
	return nil
}

func (w *extentWriter) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return blockstore.Errorf(blockstore.ErrPermanent, w.s.name, "commit extent", w.key, errClosed)
	}
	w.done = true
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.used -= w.s.extents[w.key].size()
	w.s.extents[w.key] = w.data
	return nil
}

func (w *extentWriter) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.s.mu.Lock()
	w.s.used -= w.charged
	w.s.mu.Unlock()
}

var errClosed = errors.New("extent already committed or aborted")

// OpenExtent implements blockstore.Extents.
func (s *Store) OpenExtent(ctx context.Context, key string) (blockstore.ExtentReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	_, ok := s.extents[key]
	s.mu.RUnlock()
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrNotFound, s.name, "open extent", key, nil)
	}
	return extentReader{s, key}, nil
}

type extentReader struct {
	s   *Store
	key string
}

func (r extentReader) ReadAt(ctx context.Context, off int64, n int, buf []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	x, ok := r.s.extents[r.key]
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrNotFound, r.s.name, "read extent", r.key, nil)
	}
	d, ok := x.find(off, n)
	if !ok || off < 0 || n < 0 {
		return nil, blockstore.Errorf(blockstore.ErrNotFound, r.s.name, "read extent", r.key, fmt.Errorf("no block holds %d bytes at %d", n, off))
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, d)
	return buf, nil
}

func (extentReader) Close() error { return nil }

// Append implements blockstore.Appender: the extent grows by p, one
// block of the extent per append.
func (s *Store) Append(ctx context.Context, key string, p []byte) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return 0, blockstore.Errorf(blockstore.ErrPermanent, s.name, "append", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int64(len(p))
	if s.total > 0 && s.used+n > s.total {
		return 0, blockstore.Errorf(blockstore.ErrNoSpace, s.name, "append", key, nil)
	}
	x := s.extents[key]
	if x == nil {
		x = extent{}
		s.extents[key] = x
	}
	off := x.size()
	x[off] = append([]byte(nil), p...)
	s.used += n
	return off, nil
}

// Overwrite implements blockstore.Appender.
func (s *Store) Overwrite(ctx context.Context, key string, patches []blockstore.Patch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range patches {
		if _, ok := s.extents[key].find(p.Off, len(p.Data)); !ok {
			return blockstore.Errorf(blockstore.ErrPermanent, s.name, "overwrite", key, fmt.Errorf("%d bytes at %d not appended", len(p.Data), p.Off))
		}
	}
	for _, p := range patches {
		b, _ := s.extents[key].find(p.Off, len(p.Data))
		copy(b, p.Data)
	}
	return nil
}

// AppendLater implements blockstore.Appender (memory is always durable).
func (s *Store) AppendLater(ctx context.Context, key string, p []byte) (int64, error) {
	return s.Append(ctx, key, p)
}

// SyncAppends implements blockstore.Appender.
func (s *Store) SyncAppends(ctx context.Context, key string, end int64) error { return ctx.Err() }

// CloseAppend implements blockstore.Appender (nothing is kept open).
func (s *Store) CloseAppend(string) error { return nil }

// What a memory store is, checked by the compiler.
var (
	_ blockstore.Store    = (*Store)(nil)
	_ blockstore.Extents  = (*Store)(nil)
	_ blockstore.Appender = (*Store)(nil)
)
