package dir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/nbctl/nb/pkg/blockstore"
)

// An extent is stored as one part file per volume it touches, named after
// its key with extentSuffix ("~" never occurs in a key). Its blocks go to
// the volumes in runs of extentRun bytes of offset, so that a large object
// spreads over the pool's volumes, while each run stays one contiguous
// stretch of one file. A part keeps the extent's offsets: it is sparse
// where other volumes hold the runs. Runs are long because every switch
// from one file to the next costs a sequential read its speed: reading a
// 1 GiB object over two volumes went at about 1.7 GB/s with 64 MiB runs,
// 1.8 with 256 MiB and 2.3 with 1 GiB (same-run pairs, docs/benchmarks.md).
const (
	extentSuffix = "~x"
	extentRun    = 1 << 30
)

// extentVolume is the volume holding the block at off of extent key.
func (s *Store) extentVolume(key string, off int64) int {
	return (s.volumeOf(key) + int(off/extentRun)) % len(s.volumes)
}

func (s *Store) partPath(v int, key string) string {
	return filepath.Join(s.volumes[v], filepath.FromSlash(key)) + extentSuffix
}

// CreateExtent implements blockstore.Extents.
func (s *Store) CreateExtent(ctx context.Context, key string) (blockstore.ExtentWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.name, "create extent", key, err)
	}
	return &extentWriter{s: s, key: key, parts: map[int]*partWriter{}}, nil
}

type extentWriter struct {
	s     *Store
	key   string
	mu    sync.Mutex
	parts map[int]*partWriter
	done  bool
}

// partWriter is one volume's part of an extent being written: a temporary
// file, opened for direct I/O where the volume takes it, with a second,
// buffered handle opened for the blocks direct I/O cannot write.
type partWriter struct {
	tmp, final string
	direct     *os.File
	buffered   *os.File
	// charged is what the part's writes count against its volume.
	charged int64
	mu      sync.Mutex
}

// part returns volume v's part, creating its temporary file.
func (w *extentWriter) part(ctx context.Context, v int) (*partWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, errors.New("extent already committed or aborted")
	}
	if p := w.parts[v]; p != nil {
		return p, nil
	}
	final := w.s.partPath(v, w.key)
	p := &partWriter{final: final}
	dir := filepath.Dir(final)
	err := w.s.inDir(ctx, v, dir, func() (err error) {
		if p.tmp, err = tempName(dir); err == nil {
			err = p.open(w.s.dio[v])
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	w.parts[v] = p
	return p, nil
}

func (p *partWriter) open(dio directIO) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if dio.mem != 0 {
		f, err := openDirect(p.tmp, flag)
		if err == nil {
			p.direct = f
			return nil
		}
		if !errors.Is(err, errNoDirect) {
			return err
		}
	}
	f, err := os.OpenFile(p.tmp, flag, 0o640)
	p.buffered = f
	return err
}

// bufferedFile returns the part's page-cache handle, opening it on first
// use.
func (p *partWriter) bufferedFile() (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buffered == nil {
		f, err := os.OpenFile(p.tmp, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		p.buffered = f
	}
	return p.buffered, nil
}

func (p *partWriter) close() error {
	var err error
	for _, f := range []*os.File{p.direct, p.buffered} {
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
	}
	p.direct, p.buffered = nil, nil
	return err
}

// WriteAt implements blockstore.ExtentWriter.
func (w *extentWriter) WriteAt(ctx context.Context, data []byte, off int64) error {
	if err := blockstore.CheckExtentWrite(ctx, w.s.name, w.key, off); err != nil {
		return err
	}
	v := w.s.extentVolume(w.key, off)
	if _, err := os.Stat(w.s.volumes[v]); err != nil {
		return w.s.classify("write extent", w.key, v, err)
	}
	n := int64(len(data))
	w.s.mu.Lock()
	if w.s.volumeSize > 0 && w.s.used[v]+n > w.s.volumeSize {
		w.s.mu.Unlock()
		return blockstore.Errorf(blockstore.ErrNoSpace, w.s.name, "write extent", w.key, fmt.Errorf("volume %d is full", v))
	}
	w.s.used[v] += n
	w.s.mu.Unlock()
	p, err := w.part(ctx, v)
	if err == nil {
		p.mu.Lock()
		p.charged += n
		p.mu.Unlock()
		err = w.s.writePart(p, v, data, off)
	} else {
		w.s.charge(v, -n)
	}
	if err != nil {
		return w.s.classify("write extent", w.key, v, err)
	}
	return nil
}

// writePart writes a block into a part: by direct I/O when the part was
// opened so and the block is aligned, else through the page cache.
func (s *Store) writePart(p *partWriter, v int, data []byte, off int64) error {
	if p.direct != nil && s.dio[v].offset <= blockstore.ExtentAlign && s.dio[v].aligned(data, off) {
		scratch := s.scratch()
		err := writeAtDirect(p.direct, data, off, s.dio[v], *scratch)
		s.tails.Put(scratch)
		if !errors.Is(err, errNoDirect) && !errors.Is(err, syscall.EINVAL) {
			return err
		}
	}
	f, err := p.bufferedFile()
	if err != nil {
		return err
	}
	_, err = f.WriteAt(data, off)
	return err
}

func (s *Store) charge(v int, n int64) {
	s.mu.Lock()
	s.used[v] += n
	s.mu.Unlock()
}

// Commit implements blockstore.ExtentWriter: every part is fsynced and
// renamed into place, then its folder fsynced. If a part fails, the parts
// already in place are removed again and the error returned.
func (w *extentWriter) Commit(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		w.Abort()
		return err
	}
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return blockstore.Errorf(blockstore.ErrPermanent, w.s.name, "commit extent", w.key, errors.New("extent already committed or aborted"))
	}
	w.done = true
	w.mu.Unlock()
	var done []int
	for v, p := range w.parts {
		if err := w.s.commitPart(v, p); err != nil {
			for _, dv := range done {
				w.s.removePart(dv, w.key)
			}
			w.abortParts()
			return w.s.classify("commit extent", w.key, v, err)
		}
		done = append(done, v)
		delete(w.parts, v)
	}
	return nil
}

func (s *Store) commitPart(v int, p *partWriter) error {
	var err error
	if !s.NoSync {
		f := p.buffered
		if f == nil {
			f = p.direct
		}
		err = f.Sync()
	}
	if cerr := p.close(); err == nil {
		err = cerr
	}
	if err == nil {
		s.forgetRead(p.final) // a part replaced: no reader keeps the old one
		err = os.Rename(p.tmp, p.final)
	}
	if err != nil {
		return err
	}
	// What the part really takes on disk replaces what its writes counted.
	if info, serr := os.Stat(p.final); serr == nil {
		s.charge(v, allocated(info)-p.charged)
	}
	return s.syncDir(filepath.Dir(p.final))
}

// Abort implements blockstore.ExtentWriter.
func (w *extentWriter) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.done = true
	w.abortParts()
}

// abortParts removes the temporary files of the parts not committed.
func (w *extentWriter) abortParts() {
	for v, p := range w.parts {
		p.close()
		os.Remove(p.tmp)
		w.s.charge(v, -p.charged)
		delete(w.parts, v)
	}
}

// removePart deletes volume v's part of extent key, if there is one.
func (s *Store) removePart(v int, key string) error {
	p := s.partPath(v, key)
	s.forgetRead(p)
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	s.charge(v, -allocated(info))
	return s.prune(s.volumes[v], filepath.Dir(p))
}

// OpenExtent implements blockstore.Extents.
func (s *Store) OpenExtent(ctx context.Context, key string) (blockstore.ExtentReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := blockstore.ValidKey(key); err != nil {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.name, "open extent", key, err)
	}
	// A stat even when the part is open for reading: it is what finds a
	// volume folder gone (a PV lost, or moved away by nb verify) while
	// handles opened before still read (tried: without it, verify's reads
	// with both of a Mirror's stores failed came back intact).
	for v := range s.volumes {
		if _, err := os.Stat(s.partPath(v, key)); err == nil {
			return &extentReader{s: s, key: key, parts: map[int]*readFile{}}, nil
		}
	}
	return nil, s.classify("open extent", key, s.volumeOf(key), fs.ErrNotExist)
}

type extentReader struct {
	s     *Store
	key   string
	mu    sync.Mutex
	parts map[int]*readFile
}

// part opens volume v's part on first use. One handle per part is shared
// by every read, so the kernel sees one sequential reader and reads ahead.
func (r *extentReader) part(v int) (*readFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.parts[v]; f != nil {
		return f, nil
	}
	f, err := r.s.openRead(r.s.partPath(v, r.key))
	if err != nil {
		return nil, err
	}
	r.parts[v] = f
	return f, nil
}

// readFile is an open part shared by the readers of a store: a small
// object in a pack is then one read, not an open, a stat and a close
// around it. refs counts the readers using it; a part deleted (or pushed
// out of the cache) is closed once the last one is done.
type readFile struct {
	f    *os.File
	path string
	refs int
	gone bool

	// direct is the part opened for direct reads, on the first uncached
	// read (noDirect: the filesystem refused).
	directMu sync.Mutex
	direct   *os.File
	noDirect bool
}

// directFile returns the part's direct-I/O handle, opening it on first
// use; nil when the filesystem refuses direct reads.
func (rf *readFile) directFile() *os.File {
	rf.directMu.Lock()
	defer rf.directMu.Unlock()
	if rf.direct == nil && !rf.noDirect {
		f, err := openDirect(rf.path, os.O_RDONLY)
		if err != nil {
			rf.noDirect = true
			return nil
		}
		rf.direct = f
	}
	return rf.direct
}

func (rf *readFile) close() {
	rf.f.Close()
	rf.directMu.Lock()
	defer rf.directMu.Unlock()
	if rf.direct != nil {
		rf.direct.Close()
		rf.direct = nil
	}
}

// readCache is how many parts a store keeps open for reading.
const readCache = 128

func (s *Store) openRead(path string) (*readFile, error) {
	s.readMu.Lock()
	if rf := s.readFiles[path]; rf != nil {
		rf.refs++
		s.readMu.Unlock()
		return rf, nil
	}
	s.readMu.Unlock()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err == nil {
		adviseSequential(f, info.Size())
	}
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if rf := s.readFiles[path]; rf != nil { // opened meanwhile
		f.Close()
		rf.refs++
		return rf, nil
	}
	if s.readFiles == nil {
		s.readFiles = map[string]*readFile{}
	}
	if len(s.readFiles) >= readCache {
		for p, old := range s.readFiles { // any idle one
			if old.refs == 0 {
				old.close()
				delete(s.readFiles, p)
				break
			}
		}
	}
	rf := &readFile{f: f, path: path, refs: 1}
	s.readFiles[path] = rf
	return rf, nil
}

// releaseRead ends a reader's use of rf.
func (s *Store) releaseRead(rf *readFile) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	rf.refs--
	if rf.refs == 0 && (rf.gone || s.readFiles[rf.path] != rf) {
		rf.close()
	}
}

// forgetRead drops path's open handle (the part is being deleted).
func (s *Store) forgetRead(path string) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if rf := s.readFiles[path]; rf != nil {
		delete(s.readFiles, path)
		rf.gone = true
		if rf.refs == 0 {
			rf.close()
		}
	}
}

// ReadAt implements blockstore.ExtentReader.
func (r *extentReader) ReadAt(ctx context.Context, off int64, n int, buf []byte) ([]byte, error) {
	return r.readAt(ctx, off, n, buf, false)
}

// ReadAtUncached implements blockstore.UncachedReader: a read by direct
// I/O, straight from the device into buf, where the volume and the
// alignment allow; through the page cache where not.
func (r *extentReader) ReadAtUncached(ctx context.Context, off int64, n int, buf []byte) ([]byte, error) {
	return r.readAt(ctx, off, n, buf, true)
}

func (r *extentReader) readAt(ctx context.Context, off int64, n int, buf []byte, uncached bool) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if off < 0 || n < 0 {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, r.s.name, "read extent", r.key, fmt.Errorf("%d bytes at %d", n, off))
	}
	v := r.s.extentVolume(r.key, off)
	rf, err := r.part(v)
	if err != nil {
		return nil, r.s.classify("read extent", r.key, v, err)
	}
	if uncached {
		if got, ok := r.readDirect(rf, v, off, n, buf); ok {
			return got, nil
		}
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := rf.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, blockstore.Errorf(blockstore.ErrNotFound, r.s.name, "read extent", r.key, fmt.Errorf("%d bytes at %d: past the end", n, off))
		}
		return nil, r.s.classify("read extent", r.key, v, err)
	}
	return buf, nil
}

// readDirect reads n bytes at off by direct I/O into buf (grown to the
// alignment when short). ok is false when it cannot (unaligned, refused by
// the filesystem, or any error: the caller then reads through the page
// cache, which reports the error as it should).
func (r *extentReader) readDirect(rf *readFile, v int, off int64, n int, buf []byte) ([]byte, bool) {
	dio := r.s.dio[v]
	if dio.mem == 0 || off%int64(dio.offset) != 0 {
		return nil, false
	}
	whole := (n + dio.offset - 1) / dio.offset * dio.offset
	if cap(buf) < whole {
		buf = make([]byte, whole) // large: the allocator page-aligns it
	}
	if !dio.aligned(buf[:whole], off) {
		return nil, false
	}
	f := rf.directFile()
	if f == nil {
		return nil, false
	}
	// The part may end inside the alignment's padding: a short read that
	// holds the n bytes is what was asked for.
	if m, err := f.ReadAt(buf[:whole], off); m < n || (err != nil && !errors.Is(err, io.EOF)) {
		return nil, false
	}
	return buf[:n], true
}

// Close implements blockstore.ExtentReader.
func (r *extentReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for v, f := range r.parts {
		r.s.releaseRead(f)
		delete(r.parts, v)
	}
	return err
}
