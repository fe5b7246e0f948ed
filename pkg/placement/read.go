package placement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

// ReadStats counts what a read met on its way.
type ReadStats struct {
	// BadBlocks were missing, unreachable or failed their check; the data
	// came from another copy or was rebuilt from parity.
	BadBlocks int
}

// Get streams bucket/key to w, verifying every block (and, with
// VerifyObjectHash, the whole object's SHA-256). A chunk whose copies are all bad fails the read with
// ErrUnreadable; wrong bytes are never written to w.
func (e *Engine) Get(ctx context.Context, bucket, key string, w io.Writer) (*Manifest, ReadStats, error) {
	man, err := e.Meta.Get(bucket, key)
	if err != nil {
		return nil, ReadStats{}, err
	}
	stats, err := e.ReadManifest(ctx, man, w)
	return man, stats, err
}

type chunkResult struct {
	data []byte
	// buf is the buffer data lives in, to recycle once written.
	buf []byte
	bad int
	err error
}

// ReadManifest streams the object a manifest describes, with up to
// Parallelism chunks in flight.
func (e *Engine) ReadManifest(ctx context.Context, man *Manifest, w io.Writer) (ReadStats, error) {
	return e.ReadRange(ctx, man, 0, man.Size, w)
}

// ReadManifestUncached is ReadManifest reading around the page cache
// where the stores can (blockstore.UncachedReader): what is read comes
// from the devices, and a large read does not push everything else out of
// the cache. nb verify reads back so.
func (e *Engine) ReadManifestUncached(ctx context.Context, man *Manifest, w io.Writer) (ReadStats, error) {
	return e.readRange(ctx, man, 0, man.Size, w, true)
}

// ReadRange streams n bytes of the object from offset off (an S3 range
// request): only the chunks that hold them are read, each verified whole.
func (e *Engine) ReadRange(ctx context.Context, man *Manifest, off, n int64, w io.Writer) (ReadStats, error) {
	return e.readRange(ctx, man, off, n, w, false)
}

func (e *Engine) readRange(ctx context.Context, man *Manifest, off, n int64, w io.Writer, uncached bool) (ReadStats, error) {
	rr, err := e.openRange(ctx, man, off, n, uncached)
	if err != nil {
		return rr.Stats(), err
	}
	defer rr.Close()
	_, err = rr.WriteTo(w)
	return rr.Stats(), err
}

// RangeReader is a read of a range under way: its chunks are read
// ahead (up to Parallelism in flight) and verified while WriteTo writes
// them in order.
type RangeReader struct {
	e        *Engine
	man      *Manifest
	off, n   int64
	lo, hi   int
	start    int64
	slots    []chan chunkResult
	bufs     chan []byte
	nbufs    int
	rs       *readSession
	wg       sync.WaitGroup
	ctx      context.Context
	cancel   context.CancelFunc
	first    *chunkResult // the first chunk, read by OpenRange
	stats    ReadStats
	closed   bool
	consumed bool
}

// OpenRange starts reading n bytes from off and returns once the first
// chunk is read and verified, or failed: a caller can still answer an
// error before it sends a byte. Close it (after WriteTo, or instead).
func (e *Engine) OpenRange(ctx context.Context, man *Manifest, off, n int64) (*RangeReader, error) {
	return e.openRange(ctx, man, off, n, false)
}

func (e *Engine) openRange(ctx context.Context, man *Manifest, off, n int64, uncached bool) (*RangeReader, error) {
	r := &RangeReader{e: e, man: man, off: off, n: n}
	if off < 0 || n < 0 || off+n > man.Size {
		return r, fmt.Errorf("read %s/%s: range %d+%d outside its %d bytes", man.Bucket, man.Key, off, n, man.Size)
	}
	// The chunks [lo, hi) hold the range; start is where chunk lo begins.
	for pos := int64(0); r.hi < len(man.Chunks) && pos < off+n; r.hi++ {
		if pos+int64(man.Chunks[r.hi].Size) <= off {
			r.lo, r.start = r.hi+1, pos+int64(man.Chunks[r.hi].Size)
		}
		pos += int64(man.Chunks[r.hi].Size)
	}
	if n == 0 {
		r.lo, r.hi = 0, 0
	}
	r.ctx, r.cancel = context.WithCancel(ctx)
	par := e.parallelism()
	r.slots = make([]chan chunkResult, len(man.Chunks))
	// bufs both bounds the chunks in flight and recycles their buffers,
	// so a read holds about Parallelism chunks of memory.
	var err error
	if r.nbufs, err = e.Budget.take(r.ctx, min(par, max(r.hi-r.lo, 1))); err != nil {
		r.cancel()
		r.closed = true
		return r, err
	}
	r.bufs = make(chan []byte, par)
	for i := 0; i < r.nbufs; i++ {
		r.bufs <- e.getChunkBuf(headerSize + e.chunkSize())
	}
	for i := r.lo; i < r.hi; i++ {
		r.slots[i] = make(chan chunkResult, 1)
	}
	r.rs = e.newReadSession()
	r.rs.uncached = uncached
	if r.hi-r.lo == 1 {
		// One chunk (every small object): read here, without the
		// read-ahead's goroutines; its slot holds it as theirs would.
		data, used, bad, err := e.readChunk(r.ctx, r.rs, man, r.lo, <-r.bufs)
		r.slots[r.lo] <- chunkResult{data, used, bad, err}
	} else {
		r.readAhead(man)
	}
	if r.lo < r.hi {
		res, err := r.next(r.lo)
		r.first = &res
		if err != nil {
			r.Close()
			return r, err
		}
	}
	return r, nil
}

// readAhead reads chunks [lo, hi) into their slots on goroutines of
// their own, as many at once as there are buffers.
func (r *RangeReader) readAhead(man *Manifest) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for i := r.lo; i < r.hi; i++ {
			var buf []byte
			select {
			case buf = <-r.bufs:
			case <-r.ctx.Done():
				return
			}
			r.wg.Add(1)
			go func(i int) {
				defer r.wg.Done()
				data, used, bad, err := r.e.readChunk(r.ctx, r.rs, man, i, buf)
				r.slots[i] <- chunkResult{data, used, bad, err}
			}(i)
		}
	}()
}

// next waits for chunk i.
func (r *RangeReader) next(i int) (chunkResult, error) {
	var res chunkResult
	select {
	case res = <-r.slots[i]:
	case <-r.ctx.Done():
		return res, r.ctx.Err()
	}
	r.stats.BadBlocks += res.bad
	if res.err != nil {
		return res, fmt.Errorf("read %s/%s chunk %d: %w", r.man.Bucket, r.man.Key, i, res.err)
	}
	return res, nil
}

// Stats are what the read met so far.
func (r *RangeReader) Stats() ReadStats { return r.stats }

// WriteTo writes the range to w, in order (io.WriterTo: an HTTP server
// copies a body with it in whole chunks). It can be called once.
func (r *RangeReader) WriteTo(w io.Writer) (int64, error) {
	if r.consumed || r.closed {
		return 0, errors.New("range already read")
	}
	r.consumed = true
	man := r.man
	var h hash.Hash
	if r.e.VerifyObjectHash && man.SHA256 != "" && r.off == 0 && r.n == man.Size {
		h = sha256.New()
	}
	var written int64
	pos := r.start
	for i := r.lo; i < r.hi; i++ {
		var res chunkResult
		if i == r.lo && r.first != nil {
			res, r.first = *r.first, nil
		} else {
			var err error
			if res, err = r.next(i); err != nil {
				return written, err
			}
		}
		if h != nil {
			h.Write(res.data)
		}
		data := res.data
		if end := pos + int64(len(data)); end > r.off+r.n {
			data = data[:r.off+r.n-pos]
		}
		if pos < r.off {
			data = data[r.off-pos:]
		}
		pos += int64(len(res.data))
		m, err := w.Write(data)
		written += int64(m)
		if err != nil {
			return written, fmt.Errorf("write %s/%s: %w", man.Bucket, man.Key, err)
		}
		r.bufs <- res.buf
	}
	if h != nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != man.SHA256 {
			return written, fmt.Errorf("%w: %s/%s: SHA-256 %s, manifest says %s", ErrUnreadable, man.Bucket, man.Key, got, man.SHA256)
		}
	}
	return written, nil
}

// Close stops the read and hands its buffers back; nothing of it
// outlives the call.
func (r *RangeReader) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.cancel()
	r.wg.Wait()
	if r.first != nil {
		r.bufs <- r.first.buf
		r.first = nil
	}
	// Chunks read ahead but not written hold buffers in their slots.
	for i := r.lo; i < r.hi; i++ {
		select {
		case res := <-r.slots[i]:
			if res.buf != nil {
				r.bufs <- res.buf
			}
		default:
		}
	}
	r.e.putChunkBufs(r.bufs)
	r.rs.close()
	r.e.Budget.give(r.nbufs)
}

// readChunk returns a chunk's verified bytes, the buffer they live in
// (buf when the block fit), and how many bad blocks it met.
func (e *Engine) readChunk(ctx context.Context, rs *readSession, man *Manifest, i int, buf []byte) ([]byte, []byte, int, error) {
	c := &man.Chunks[i]
	if c.Erasure() {
		data, bad, err := e.readShards(ctx, rs, c)
		return data, buf, bad, err
	}
	bad := 0
	var errs []error
	n := len(c.Blocks)
	first := firstCopy(man, i)
	order := make([]Block, 0, n)
	for j := 0; j < n; j++ {
		order = append(order, c.Blocks[(first+j)%n])
	}
	for _, b := range rs.healthyFirst(order) {
		data, raw, err := e.readBlockInto(ctx, rs, b, buf)
		if raw != nil {
			buf = raw
		}
		if err == nil {
			return data, buf, bad, nil
		}
		if ctx.Err() != nil {
			return nil, buf, bad, ctx.Err()
		}
		bad++
		errs = append(errs, err)
	}
	return nil, buf, bad, fmt.Errorf("%w: every copy failed: %w", ErrUnreadable, errors.Join(errs...))
}

// firstCopy is the index of the copy a read of chunk i tries first. It
// differs from chunk to chunk, so that a Mirror read spreads over every
// store instead of hitting the first. Copies in extents are read from one
// copy per object instead (picked by its ID): sequential reads of one file
// are what a disk does best, and switching files every few chunks cost
// half the speed on a local disk (docs/benchmarks.md).
func firstCopy(man *Manifest, i int) int {
	c := &man.Chunks[i]
	if c.Blocks[0].Extent {
		i = int(man.ObjectID[0]) + int(man.ObjectID[1])
	}
	return i % len(c.Blocks)
}

// readBlock fetches and checks one block against its manifest entry.
func (e *Engine) readBlock(ctx context.Context, rs *readSession, b Block) ([]byte, error) {
	payload, _, err := e.readBlockInto(ctx, rs, b, nil)
	return payload, err
}

// readBlockInto is readBlock reading into buf when the store can; it also
// returns the buffer the block landed in, for reuse.
func (e *Engine) readBlockInto(ctx context.Context, rs *readSession, b Block, buf []byte) ([]byte, []byte, error) {
	raw, err := rs.read(ctx, b, buf)
	if ctx.Err() == nil {
		rs.noteResult(b.Store, err)
	}
	if err != nil {
		return nil, nil, err
	}
	payload, sum, err := openBlockSum(raw, kindData)
	if err != nil {
		return nil, raw, fmt.Errorf("%s %s: %w", b.Store, b.Key, err)
	}
	// The payload matches the header's CRC-32C; the header's must be the
	// manifest's (one pass over the bytes checks both).
	if len(payload) != b.Size || sum != b.CRC {
		return nil, raw, fmt.Errorf("%s %s: %w: does not match the manifest", b.Store, b.Key, ErrBadBlock)
	}
	return payload, raw, nil
}

// readShards reads shards until k verified ones are in hand, then rebuilds
// the data shards that are missing.
func (e *Engine) readShards(ctx context.Context, rs *readSession, c *Chunk) ([]byte, int, error) {
	k, m := c.DataShards, c.ParityShards
	shards := make([][]byte, k+m)
	type res struct {
		shard int
		data  []byte
		err   error
	}
	results := make(chan res, len(c.Blocks))
	// Data shards first: with all of them no decoding is needed.
	order := make([]Block, 0, len(c.Blocks))
	for _, b := range c.Blocks {
		if b.Shard < k {
			order = append(order, b)
		}
	}
	for _, b := range c.Blocks {
		if b.Shard >= k {
			order = append(order, b)
		}
	}
	// Shards on stores failing lately come last, data shards included:
	// decoding from parity is cheaper than a timeout.
	order = rs.healthyFirst(order)
	next, inflight, good, bad := 0, 0, 0, 0
	var errs []error
	launch := func() {
		b := order[next]
		next++
		inflight++
		go func() {
			d, err := e.readBlock(ctx, rs, b)
			results <- res{b.Shard, d, err}
		}()
	}
	for next < len(order) && inflight < k {
		launch()
	}
	for inflight > 0 {
		r := <-results
		inflight--
		if r.err != nil {
			bad++
			errs = append(errs, r.err)
			if next < len(order) && ctx.Err() == nil {
				launch()
			}
			continue
		}
		shards[r.shard] = r.data
		good++
		if good == k {
			break
		}
	}
	// Let stragglers finish without blocking: results is buffered.
	if good < k {
		if ctx.Err() != nil {
			return nil, bad, ctx.Err()
		}
		return nil, bad, fmt.Errorf("%w: %d of %d shards readable, %d needed: %w", ErrUnreadable, good, k+m, k, errors.Join(errs...))
	}
	enc, err := e.coder(k, m)
	if err != nil {
		return nil, bad, err
	}
	if err := enc.ReconstructData(shards); err != nil {
		return nil, bad, fmt.Errorf("%w: rebuild from parity: %w", ErrUnreadable, err)
	}
	out := make([]byte, 0, c.Size)
	for i := 0; i < k && len(out) < c.Size; i++ {
		out = append(out, shards[i][:min(len(shards[i]), c.Size-len(out))]...)
	}
	if crc(out) != c.CRC {
		return nil, bad, fmt.Errorf("%w: rebuilt chunk fails its CRC", ErrUnreadable)
	}
	return out, bad, nil
}
