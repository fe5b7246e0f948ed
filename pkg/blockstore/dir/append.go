package dir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Appended extents (blockstore.Appender) are extent parts like any other
// (one file, on the volume of the key's hash: callers keep them below
// extentRun), visible from their creation on and growing by whole
// records. One writer at a time writes what the callers queued, in order,
// with one write and one fdatasync for the whole queue: the file is then
// always a durable prefix of complete records, followed after a crash by
// at most the one batch that was being written. Concurrent callers share
// that sync, which is what lets many small objects be durable at the cost
// of a few syncs.
type appender struct {
	s    *Store
	key  string
	v    int
	path string
	f    *os.File

	mu   sync.Mutex
	size int64
	// zeroed is where the file ends: appends write into zeros written
	// ahead (zeroAhead at a time), so that their sync writes data only,
	// without the block allocation and size change a journal commit
	// makes durable (which cost each sync about a millisecond more).
	zeroed  int64
	queue   []*appendReq
	writing bool
	// synced is how far the file is durable; syncing is set while a sync
	// runs, cond wakes those waiting for one (syncTo).
	synced  int64
	syncing bool
	cond    *sync.Cond
	// err, once set, fails every later append: after a failed write or
	// sync the file's tail is unknown.
	err error
}

// zeroAhead is how far ahead of its records an appended extent is
// written with zeros.
const zeroAhead = 1 << 20

type appendReq struct {
	p    []byte
	off  int64
	err  error
	lead bool
	done chan struct{}
}

// Append implements blockstore.Appender.
func (s *Store) Append(ctx context.Context, key string, p []byte) (int64, error) {
	a, off, err := s.appendOnly(ctx, key, p)
	if err != nil {
		return 0, err
	}
	if err := a.syncTo(off + int64(len(p))); err != nil {
		return 0, s.classify("append", key, a.v, err)
	}
	return off, nil
}

// AppendLater implements blockstore.Appender.
func (s *Store) AppendLater(ctx context.Context, key string, p []byte) (int64, error) {
	_, off, err := s.appendOnly(ctx, key, p)
	return off, err
}

// appendOnly writes p at the end of key's extent, not waiting for a
// sync, and returns the extent's appender and where p starts.
func (s *Store) appendOnly(ctx context.Context, key string, p []byte) (*appender, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return nil, 0, blockstore.Errorf(blockstore.ErrPermanent, s.name, "append", key, err)
	}
	v := s.volumeOf(key)
	if _, err := os.Stat(s.volumes[v]); err != nil {
		return nil, 0, s.classify("append", key, v, err)
	}
	// What an appended extent takes is charged as it grows (appender.write).
	s.mu.Lock()
	full := s.volumeSize > 0 && s.used[v]+int64(len(p)) > s.volumeSize
	s.mu.Unlock()
	if full {
		return nil, 0, blockstore.Errorf(blockstore.ErrNoSpace, s.name, "append", key, fmt.Errorf("volume %d is full", v))
	}
	a, err := s.appenderFor(ctx, key, v)
	if err != nil {
		return nil, 0, s.classify("append", key, v, err)
	}
	off, err := a.append(p)
	if err != nil {
		return nil, 0, s.classify("append", key, v, err)
	}
	return a, off, nil
}

// SyncAppends implements blockstore.Appender.
func (s *Store) SyncAppends(ctx context.Context, key string, end int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v := s.volumeOf(key)
	s.appendMu.Lock()
	a := s.appenders[key]
	s.appendMu.Unlock()
	if a == nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.name, "sync appends", key, errors.New("not open for appends"))
	}
	if err := a.syncTo(end); err != nil {
		return s.classify("sync appends", key, v, err)
	}
	return nil
}

// syncTo returns once everything appended up to end is durable: a sync
// that starts after those appends were written covers them, and callers
// arriving while one runs share the next.
func (a *appender) syncTo(end int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.synced < end && a.err == nil {
		if a.syncing {
			a.cond.Wait()
			continue
		}
		a.syncing = true
		target := a.size
		a.mu.Unlock()
		var err error
		if !a.s.NoSync {
			err = datasync(a.f)
		}
		a.mu.Lock()
		a.syncing = false
		if err != nil && a.err == nil {
			a.err = err
		}
		if err == nil && target > a.synced {
			a.synced = target
		}
		a.cond.Broadcast()
	}
	if a.synced >= end {
		return nil
	}
	return a.err
}

// appenderFor returns the open appender of key, creating its file.
func (s *Store) appenderFor(ctx context.Context, key string, v int) (*appender, error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if a := s.appenders[key]; a != nil {
		return a, nil
	}
	path := s.partPath(v, key)
	dir := filepath.Dir(path)
	var f *os.File
	err := s.inDir(ctx, v, dir, func() (err error) {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o640)
		return err
	})
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil {
		err = s.syncDir(dir)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	if s.appenders == nil {
		s.appenders = map[string]*appender{}
	}
	a := &appender{s: s, key: key, v: v, path: path, f: f, size: info.Size(), zeroed: info.Size(), synced: info.Size()}
	a.cond = sync.NewCond(&a.mu)
	s.appenders[key] = a
	return a, nil
}

// append queues p and waits until it is written and synced. The first
// caller to find no writer at work becomes the writer; when it is done
// with a batch, the first caller still queued takes over.
func (a *appender) append(p []byte) (int64, error) {
	r := &appendReq{p: p, done: make(chan struct{})}
	a.mu.Lock()
	if a.err != nil {
		err := a.err
		a.mu.Unlock()
		return 0, err
	}
	a.queue = append(a.queue, r)
	if a.writing {
		a.mu.Unlock()
		<-r.done
		if !r.lead {
			return r.off, r.err
		}
		a.mu.Lock()
	}
	a.writing = true
	batch := a.queue
	a.queue = nil
	off := a.size
	err := a.err
	a.mu.Unlock()

	if err == nil {
		err = a.write(batch, off)
	}

	a.mu.Lock()
	if err != nil && a.err == nil {
		a.err = err
	}
	for _, q := range batch {
		q.off, q.err = off, err
		off += int64(len(q.p))
	}
	if err == nil {
		a.size = off
	}
	var next *appendReq
	if len(a.queue) > 0 {
		next = a.queue[0]
		next.lead = true
	} else {
		a.writing = false
	}
	a.mu.Unlock()
	for _, q := range batch {
		if q != r {
			close(q.done)
		}
	}
	if next != nil {
		close(next.done)
	}
	return r.off, r.err
}

// write writes a batch at off in one write (syncTo makes it durable).
func (a *appender) write(batch []*appendReq, off int64) error {
	buf := batch[0].p
	if len(batch) > 1 {
		n := 0
		for _, q := range batch {
			n += len(q.p)
		}
		buf = make([]byte, 0, n)
		for _, q := range batch {
			buf = append(buf, q.p...)
		}
	}
	if end := off + int64(len(buf)); end > a.zeroed {
		n := (end - a.zeroed + zeroAhead - 1) / zeroAhead * zeroAhead
		if _, err := a.f.WriteAt(make([]byte, n), a.zeroed); err != nil {
			return err
		}
		a.zeroed += n
		a.s.charge(a.v, n)
	}
	_, err := a.f.WriteAt(buf, off)
	return err
}

// Overwrite implements blockstore.Appender.
func (s *Store) Overwrite(ctx context.Context, key string, patches []blockstore.Patch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.name, "overwrite", key, err)
	}
	v := s.volumeOf(key)
	path := s.partPath(v, key)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return s.classify("overwrite", key, v, err)
	}
	defer f.Close()
	info, err := f.Stat()
	var end int64
	if err == nil {
		end = info.Size()
	}
	s.appendMu.Lock()
	if a := s.appenders[key]; a != nil {
		a.mu.Lock()
		end = a.size // the file goes on with zeros written ahead
		a.mu.Unlock()
	}
	s.appendMu.Unlock()
	for _, p := range patches {
		if err != nil {
			break
		}
		if p.Off < 0 || p.Off+int64(len(p.Data)) > end {
			return blockstore.Errorf(blockstore.ErrPermanent, s.name, "overwrite", key, fmt.Errorf("%d bytes at %d of %d", len(p.Data), p.Off, end))
		}
		_, err = f.WriteAt(p.Data, p.Off)
	}
	if err == nil && !s.NoSync {
		err = datasync(f)
	}
	if err != nil {
		return s.classify("overwrite", key, v, err)
	}
	return nil
}

// CloseAppend implements blockstore.Appender.
func (s *Store) CloseAppend(key string) error {
	s.appendMu.Lock()
	a := s.appenders[key]
	delete(s.appenders, key)
	s.appendMu.Unlock()
	if a == nil {
		return nil
	}
	// The zeros written ahead go: the extent ends where its records do.
	a.mu.Lock()
	err := a.f.Truncate(a.size)
	if err == nil && a.zeroed > a.size {
		s.charge(a.v, a.size-a.zeroed)
	}
	a.mu.Unlock()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	return err
}
