// Package faulty decorates a block store with failures: offline, slow,
// failing after N bytes written, failing a fraction of calls, or returning
// corrupted bytes. Tests use it to fail stores on purpose (`nb verify`
// fails real stores instead: pkg/outage moves a pv-pool's volumes away,
// and an S3 store is pointed at an address where nothing listens).
package faulty

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Faults are the failures to inject. The zero value injects none.
type Faults struct {
	// Offline makes every call fail with ErrUnavailable.
	Offline bool
	// Delay is added to every call (it honours cancellation).
	Delay time.Duration
	// FailAfterBytes, when > 0, fails every Put once that many bytes
	// have been written through the decorator.
	FailAfterBytes int64
	// FailFraction fails that fraction (0..1) of calls as unavailable.
	FailFraction float64
	// Corrupt flips a byte of every block Get returns.
	Corrupt bool
	// FailCommit fails every extent commit (a failed fsync or rename),
	// after the writes went through.
	FailCommit bool
}

// Store is a faulty decorator.
type Store struct {
	inner blockstore.Store
	mu    sync.Mutex
	f     Faults
	rnd   *rand.Rand
	bytes int64
}

var errInjected = errors.New("injected failure")

// New wraps inner; seed makes FailFraction deterministic.
func New(inner blockstore.Store, seed uint64) *Store {
	return &Store{inner: inner, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Set replaces the faults.
func (s *Store) Set(f Faults) {
	s.mu.Lock()
	s.f = f
	s.bytes = 0
	s.mu.Unlock()
}

// Faults returns the current faults.
func (s *Store) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// Inner returns the decorated store.
func (s *Store) Inner() blockstore.Store { return s.inner }

// before applies the faults common to every call.
func (s *Store) before(ctx context.Context, op, key string, size int64) error {
	s.mu.Lock()
	f := s.f
	fail := f.FailFraction > 0 && s.rnd.Float64() < f.FailFraction
	over := false
	if op == "put" && f.FailAfterBytes > 0 {
		over = s.bytes+size > f.FailAfterBytes
		if !over {
			s.bytes += size
		}
	}
	s.mu.Unlock()
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if f.Offline || fail || over {
		return blockstore.Errorf(blockstore.ErrUnavailable, s.inner.Name(), op, key, errInjected)
	}
	return nil
}

// Name implements blockstore.Store.
func (s *Store) Name() string { return s.inner.Name() }

// Put implements blockstore.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := s.before(ctx, "put", key, int64(len(data))); err != nil {
		return err
	}
	return s.inner.Put(ctx, key, data)
}

// Get implements blockstore.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.before(ctx, "get", key, 0); err != nil {
		return nil, err
	}
	d, err := s.inner.Get(ctx, key)
	if err == nil && s.Faults().Corrupt && len(d) > 0 {
		d[len(d)/2] ^= 0x5a
	}
	return d, err
}

// Stat implements blockstore.Store.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := s.before(ctx, "stat", key, 0); err != nil {
		return 0, err
	}
	return s.inner.Stat(ctx, key)
}

// Delete implements blockstore.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.before(ctx, "delete", key, 0); err != nil {
		return err
	}
	return s.inner.Delete(ctx, key)
}

// List implements blockstore.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(string) error) error {
	if err := s.before(ctx, "list", prefix, 0); err != nil {
		return err
	}
	return s.inner.List(ctx, prefix, fn)
}

// Capacity implements blockstore.Store.
func (s *Store) Capacity(ctx context.Context) (blockstore.Capacity, error) {
	if err := s.before(ctx, "capacity", "", 0); err != nil {
		return blockstore.Capacity{}, err
	}
	return s.inner.Capacity(ctx)
}

// SupportsExtents reports whether the decorated store holds extents
// (see blockstore.ExtentsOf).
func (s *Store) SupportsExtents() bool {
	_, ok := blockstore.ExtentsOf(s.inner)
	return ok
}

// CreateExtent implements blockstore.Extents: the faults apply to every
// write (counted by FailAfterBytes like a Put) and to the commit.
func (s *Store) CreateExtent(ctx context.Context, key string) (blockstore.ExtentWriter, error) {
	x, ok := blockstore.ExtentsOf(s.inner)
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "create extent", key, errors.New("the store holds no extents"))
	}
	if err := s.before(ctx, "create extent", key, 0); err != nil {
		return nil, err
	}
	w, err := x.CreateExtent(ctx, key)
	if err != nil {
		return nil, err
	}
	return &extentWriter{s: s, key: key, inner: w}, nil
}

type extentWriter struct {
	s     *Store
	key   string
	inner blockstore.ExtentWriter
}

func (w *extentWriter) WriteAt(ctx context.Context, p []byte, off int64) error {
	if err := w.s.before(ctx, "put", w.key, int64(len(p))); err != nil {
		return err
	}
	return w.inner.WriteAt(ctx, p, off)
}

func (w *extentWriter) Commit(ctx context.Context) error {
	err := w.s.before(ctx, "commit extent", w.key, 0)
	if err == nil && w.s.Faults().FailCommit {
		err = blockstore.Errorf(blockstore.ErrUnavailable, w.s.inner.Name(), "commit extent", w.key, errInjected)
	}
	if err != nil {
		w.inner.Abort()
		return err
	}
	return w.inner.Commit(ctx)
}

func (w *extentWriter) Abort() { w.inner.Abort() }

// OpenExtent implements blockstore.Extents: the faults apply to every
// read, and Corrupt flips a byte of what each read returns.
func (s *Store) OpenExtent(ctx context.Context, key string) (blockstore.ExtentReader, error) {
	x, ok := blockstore.ExtentsOf(s.inner)
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "open extent", key, errors.New("the store holds no extents"))
	}
	if err := s.before(ctx, "open extent", key, 0); err != nil {
		return nil, err
	}
	r, err := x.OpenExtent(ctx, key)
	if err != nil {
		return nil, err
	}
	return &extentReader{s: s, key: key, inner: r}, nil
}

type extentReader struct {
	s     *Store
	key   string
	inner blockstore.ExtentReader
}

func (r *extentReader) ReadAt(ctx context.Context, off int64, n int, buf []byte) ([]byte, error) {
	if err := r.s.before(ctx, "get", r.key, 0); err != nil {
		return nil, err
	}
	d, err := r.inner.ReadAt(ctx, off, n, buf)
	if err == nil && r.s.Faults().Corrupt && len(d) > 0 {
		d[len(d)/2] ^= 0x5a
	}
	return d, err
}

func (r *extentReader) Close() error { return r.inner.Close() }

// SupportsAppend reports whether the decorated store appends to extents
// (see blockstore.AppenderOf).
func (s *Store) SupportsAppend() bool {
	_, ok := blockstore.AppenderOf(s.inner)
	return ok
}

// Append implements blockstore.Appender: the faults apply as to a Put.
func (s *Store) Append(ctx context.Context, key string, p []byte) (int64, error) {
	a, ok := blockstore.AppenderOf(s.inner)
	if !ok {
		return 0, blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "append", key, errors.New("the store does not append"))
	}
	if err := s.before(ctx, "put", key, int64(len(p))); err != nil {
		return 0, err
	}
	return a.Append(ctx, key, p)
}

// Overwrite implements blockstore.Appender: the faults apply as to a Put.
func (s *Store) Overwrite(ctx context.Context, key string, patches []blockstore.Patch) error {
	a, ok := blockstore.AppenderOf(s.inner)
	if !ok {
		return blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "overwrite", key, errors.New("the store does not append"))
	}
	if err := s.before(ctx, "put", key, int64(len(patches))); err != nil {
		return err
	}
	return a.Overwrite(ctx, key, patches)
}

// AppendLater implements blockstore.Appender: the faults apply as to a
// Put.
func (s *Store) AppendLater(ctx context.Context, key string, p []byte) (int64, error) {
	a, ok := blockstore.AppenderOf(s.inner)
	if !ok {
		return 0, blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "append", key, errors.New("the store does not append"))
	}
	if err := s.before(ctx, "put", key, int64(len(p))); err != nil {
		return 0, err
	}
	return a.AppendLater(ctx, key, p)
}

// SyncAppends implements blockstore.Appender: the faults apply as to a
// commit.
func (s *Store) SyncAppends(ctx context.Context, key string, end int64) error {
	a, ok := blockstore.AppenderOf(s.inner)
	if !ok {
		return blockstore.Errorf(blockstore.ErrPermanent, s.inner.Name(), "sync appends", key, errors.New("the store does not append"))
	}
	err := s.before(ctx, "commit extent", key, 0)
	if err == nil && s.Faults().FailCommit {
		err = blockstore.Errorf(blockstore.ErrUnavailable, s.inner.Name(), "sync appends", key, errInjected)
	}
	if err != nil {
		return err
	}
	return a.SyncAppends(ctx, key, end)
}

// CloseAppend implements blockstore.Appender.
func (s *Store) CloseAppend(key string) error {
	if a, ok := blockstore.AppenderOf(s.inner); ok {
		return a.CloseAppend(key)
	}
	return nil
}

// What the decorator is, checked by the compiler.
var (
	_ blockstore.Store    = (*Store)(nil)
	_ blockstore.Extents  = (*Store)(nil)
	_ blockstore.Appender = (*Store)(nil)
)
