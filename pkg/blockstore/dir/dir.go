// Package dir is a block store on local directories: the local form of a
// pv-pool, numVolumes folders each of a fixed size. Blocks are spread
// across the volumes by a hash of their key, and written atomically: a
// temporary file is written and fsynced, renamed into place, and the folder
// is fsynced, so a crash leaves the old block or the new one. Extents
// (blockstore.Extents) are written the same way, one part file per volume
// they touch (see extent.go). Where the
// filesystem takes direct I/O (statx STATX_DIOALIGN) and the block's
// memory is aligned, the temporary file is written with O_DIRECT, which
// skips the page-cache copy; otherwise through the page cache. Deleting a
// block removes the folders it leaves empty below the volume's top level.
package dir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/process"
)

// maxDirectAlign is the largest direct I/O alignment whose tail scratch
// buffers are recycled (larger ones are allocated per write).
const maxDirectAlign = 4096

// tmpPrefix starts temporary files; "~" never occurs in a block key. A
// temporary file is named ~tmp-<pid>-<random>, after the process writing
// it, so that opening a store removes only what a dead process left (other
// nb processes may be writing into the same volumes).
const tmpPrefix = "~tmp-"

// staleTemp is how long a temporary file whose name carries no pid (an
// older nb's) or a live pid (perhaps reused by another program) may sit
// untouched before it counts as abandoned.
const staleTemp = 24 * time.Hour

// Store is a set of volume folders.
type Store struct {
	name       string
	volumes    []string
	volumeSize int64
	// NoSync skips fsync (benchmarks of the sync cost only).
	NoSync bool

	// dio is what each volume's filesystem needs for direct I/O; tails
	// recycles the scratch buffers direct writes use for a block's
	// unaligned end.
	dio   []directIO
	tails sync.Pool

	mu   sync.Mutex
	used []int64

	// appenders are the appended extents open for writing (append.go).
	appendMu  sync.Mutex
	appenders map[string]*appender
	// readFiles are the extent parts open for reading (extent.go).
	readMu    sync.Mutex
	readFiles map[string]*readFile
}

// Open opens (creating if needed) numVolumes volumes of volumeSize bytes
// each under root (volumeSize 0: unbounded). It removes the temporary
// files of processes that are gone and measures what the volumes hold.
func Open(name, root string, numVolumes int, volumeSize int64) (*Store, error) {
	if numVolumes < 1 {
		return nil, fmt.Errorf("dir store %s: need at least one volume", name)
	}
	s := &Store{name: name, volumeSize: volumeSize, used: make([]int64, numVolumes)}
	for i := 0; i < numVolumes; i++ {
		v := filepath.Join(root, fmt.Sprintf("vol-%02d", i))
		if err := os.MkdirAll(v, 0o750); err != nil {
			return nil, fmt.Errorf("dir store %s: %w", name, err)
		}
		s.volumes = append(s.volumes, v)
		s.dio = append(s.dio, probeDirectIO(v))
		err := filepath.WalkDir(v, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // renamed or removed by another process meanwhile
			}
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), tmpPrefix) {
				if abandoned(d.Name(), info.ModTime()) {
					if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
						return err
					}
				}
				return nil
			}
			if strings.HasSuffix(d.Name(), extentSuffix) {
				s.used[i] += allocated(info)
			} else {
				s.used[i] += info.Size()
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dir store %s: scan %s: %w", name, v, err)
		}
	}
	return s, nil
}

// Name implements blockstore.Store.
func (s *Store) Name() string { return s.name }

// Volumes returns the volume folders (tests fail a store by moving them).
func (s *Store) Volumes() []string { return append([]string(nil), s.volumes...) }

func (s *Store) volumeOf(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(len(s.volumes)))
}

func (s *Store) path(key string) (int, string) {
	v := s.volumeOf(key)
	return v, filepath.Join(s.volumes[v], filepath.FromSlash(key))
}

// classify maps an OS error to a class; a volume folder that is gone
// (unmounted, moved away) makes the store unavailable, not the block absent.
func (s *Store) classify(op, key string, v int, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(s.volumes[v]); serr != nil {
			return blockstore.Errorf(blockstore.ErrUnavailable, s.name, op, key, fmt.Errorf("volume %s: %w", s.volumes[v], serr))
		}
		return blockstore.Errorf(blockstore.ErrNotFound, s.name, op, key, nil)
	case errors.Is(err, syscall.ENOSPC):
		return blockstore.Errorf(blockstore.ErrNoSpace, s.name, op, key, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EIO), errors.Is(err, syscall.EROFS):
		return blockstore.Errorf(blockstore.ErrUnavailable, s.name, op, key, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return blockstore.Errorf(blockstore.ErrUnavailable, s.name, op, key, err)
}

// Put implements blockstore.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.name, "put", key, err)
	}
	v, p := s.path(key)
	if _, err := os.Stat(s.volumes[v]); err != nil {
		return s.classify("put", key, v, err)
	}
	var old int64
	if info, err := os.Stat(p); err == nil {
		old = info.Size()
	}
	s.mu.Lock()
	if s.volumeSize > 0 && s.used[v]-old+int64(len(data)) > s.volumeSize {
		s.mu.Unlock()
		return blockstore.Errorf(blockstore.ErrNoSpace, s.name, "put", key, fmt.Errorf("volume %d is full", v))
	}
	s.used[v] += int64(len(data)) - old
	s.mu.Unlock()
	if err := s.writeAtomic(ctx, v, p, data); err != nil {
		s.mu.Lock()
		s.used[v] -= int64(len(data)) - old
		s.mu.Unlock()
		return s.classify("put", key, v, err)
	}
	return nil
}

// writeAtomic writes data to a temporary file, fsyncs it, renames it to
// p and fsyncs the folder. The data goes by direct I/O where the
// filesystem takes it, else through the page cache.
func (s *Store) writeAtomic(ctx context.Context, v int, p string, data []byte) error {
	dir := filepath.Dir(p)
	tmp, err := tempName(dir)
	if err != nil {
		return err
	}
	var f *os.File
	written := false
	err = s.inDir(ctx, v, dir, func() (err error) {
		f, written, err = s.create(v, tmp, data)
		return err
	})
	if err != nil {
		return err
	}
	if !written {
		_, err = f.Write(data)
	}
	if err == nil && !s.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return s.syncDir(dir)
}

// create makes the temporary file for data: written by direct I/O where
// the volume takes it (written is true), else opened empty for a write
// through the page cache.
func (s *Store) create(v int, tmp string, data []byte) (f *os.File, written bool, err error) {
	scratch := s.scratch()
	defer s.tails.Put(scratch)
	f, err = writeDirect(tmp, data, s.dio[v], *scratch)
	if !errors.Is(err, errNoDirect) {
		return f, err == nil, err
	}
	f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	return f, false, err
}

// inDir creates dir (and its parents below volume v's root) and runs
// create in it. A concurrent Delete may remove an emptied folder between
// the two (see prune): then it tries again, for as long as the volume is
// there and ctx lives. Such a race is won within a few tries; a fixed
// bound would turn a busy folder into a failed write.
func (s *Store) inDir(ctx context.Context, v int, dir string, create func() error) error {
	for {
		err := s.mkdirAll(s.volumes[v], dir)
		if err == nil {
			err = create()
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if _, serr := os.Stat(s.volumes[v]); serr != nil {
			return err // the volume is gone: classify says unavailable
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
}

// tempName names a new temporary file in dir (see tmpPrefix).
func tempName(dir string) (string, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, tmpPrefix+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(rnd[:])), nil
}

// abandoned reports whether a temporary file was left by a process that
// is gone (or by nobody for staleTemp).
func abandoned(name string, modified time.Time) bool {
	if time.Since(modified) > staleTemp {
		return true
	}
	pid, _, ok := strings.Cut(strings.TrimPrefix(name, tmpPrefix), "-")
	if !ok {
		return false // an older nb's name: only once stale
	}
	n, err := strconv.Atoi(pid)
	return err == nil && n > 0 && !process.Alive(n)
}

// scratch returns a recycled buffer for the unaligned tails of direct
// writes; hand it back with s.tails.Put.
func (s *Store) scratch() *[]byte {
	if b, ok := s.tails.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 2*maxDirectAlign)
	return &b
}

// mkdirAll creates dir and its parents up to root (never root itself: a
// volume that is gone stays gone) and fsyncs each new folder's parent, so
// that the folder itself survives a crash.
func (s *Store) mkdirAll(root, dir string) error {
	if _, err := os.Stat(dir); err == nil || dir == root || len(dir) <= len(root) {
		return err
	}
	parent := filepath.Dir(dir)
	if err := s.mkdirAll(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o750); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return s.syncDir(parent)
}

func (s *Store) syncDir(dir string) error {
	if s.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Get implements blockstore.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.GetInto(ctx, key, nil)
}

// GetInto implements blockstore.Reader: the block is read in one go into
// buf when it fits, with the kernel told to read ahead the whole file.
func (s *Store) GetInto(ctx context.Context, key string, buf []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.name, "get", key, err)
	}
	v, p := s.path(key)
	f, err := os.Open(p)
	if err != nil {
		return nil, s.classify("get", key, v, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, s.classify("get", key, v, err)
	}
	size := info.Size()
	adviseSequential(f, size)
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, s.classify("get", key, v, err)
	}
	return buf, nil
}

// Stat implements blockstore.Store.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return 0, blockstore.Errorf(blockstore.ErrPermanent, s.name, "stat", key, err)
	}
	v, p := s.path(key)
	info, err := os.Stat(p)
	if err != nil {
		return 0, s.classify("stat", key, v, err)
	}
	return info.Size(), nil
}

// Delete implements blockstore.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.name, "delete", key, err)
	}
	// An extent's parts first, on every volume (a missing volume fails
	// the delete: its part stays until the volume is back).
	for v := range s.volumes {
		if _, err := os.Stat(s.volumes[v]); err != nil {
			return s.classify("delete", key, v, err)
		}
		if err := s.removePart(v, key); err != nil {
			return s.classify("delete", key, v, err)
		}
	}
	v, p := s.path(key)
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return s.classify("delete", key, v, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.classify("delete", key, v, err)
	}
	s.charge(v, -info.Size())
	return s.prune(s.volumes[v], filepath.Dir(p))
}

// prune removes dir and its parents while they are empty (an object's
// folder and the fan-out folder above it), keeping the volume root and the
// folders right under it, and fsyncs the last folder changed. A Put racing
// into a folder being removed tries again (see inDir).
func (s *Store) prune(root, dir string) error {
	for {
		rel, err := filepath.Rel(root, dir)
		if err != nil || rel == "." || !strings.Contains(filepath.ToSlash(rel), "/") || strings.HasPrefix(rel, "..") {
			break
		}
		if err := os.Remove(dir); err != nil {
			break // not empty (or gone meanwhile): stop here
		}
		dir = filepath.Dir(dir)
	}
	return s.syncDir(dir)
}

// List implements blockstore.Store. An extent is reported once, however
// many volumes hold a part of it.
func (s *Store) List(ctx context.Context, prefix string, fn func(string) error) error {
	extents := map[string]bool{}
	for v, root := range s.volumes {
		if _, err := os.Stat(root); err != nil {
			return s.classify("list", prefix, v, err)
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil && p != root && errors.Is(err, fs.ErrNotExist) {
				return nil // a folder emptied and removed by a Delete meanwhile
			}
			if err != nil {
				return err
			}
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if k, ok := strings.CutSuffix(key, extentSuffix); ok {
				if extents[k] {
					return nil
				}
				extents[k] = true
				key = k
			}
			if strings.HasPrefix(key, prefix) {
				return fn(key)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Capacity implements blockstore.Store.
func (s *Store) Capacity(ctx context.Context) (blockstore.Capacity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var c blockstore.Capacity
	for _, u := range s.used {
		c.Used += u
	}
	if s.volumeSize > 0 {
		c.Total = s.volumeSize * int64(len(s.volumes))
	}
	return c, ctx.Err()
}

// What a dir store is, checked by the compiler.
var (
	_ blockstore.Store    = (*Store)(nil)
	_ blockstore.Reader   = (*Store)(nil)
	_ blockstore.Extents  = (*Store)(nil)
	_ blockstore.Appender = (*Store)(nil)
)
