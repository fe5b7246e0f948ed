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

// ReadRange streams n bytes of the object from offset off (an S3 range
// request): only the chunks that hold them are read, each verified whole.
func (e *Engine) ReadRange(ctx context.Context, man *Manifest, off, n int64, w io.Writer) (ReadStats, error) {
	if off < 0 || n < 0 || off+n > man.Size {
		return ReadStats{}, fmt.Errorf("read %s/%s: range %d+%d outside its %d bytes", man.Bucket, man.Key, off, n, man.Size)
	}
	// The chunks [lo, hi) hold the range; start is where chunk lo begins.
	lo, hi, start := 0, 0, int64(0)
	for pos := int64(0); hi < len(man.Chunks) && pos < off+n; hi++ {
		if pos+int64(man.Chunks[hi].Size) <= off {
			lo, start = hi+1, pos+int64(man.Chunks[hi].Size)
		}
		pos += int64(man.Chunks[hi].Size)
	}
	if n == 0 {
		lo, hi = 0, 0
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	par := e.parallelism()
	slots := make([]chan chunkResult, len(man.Chunks))
	// bufs both bounds the chunks in flight and recycles their buffers,
	// so a read holds about Parallelism chunks of memory.
	bufs := make(chan []byte, par)
	for i := 0; i < par; i++ {
		bufs <- e.getChunkBuf(headerSize + e.chunkSize())
	}
	for i := lo; i < hi; i++ {
		slots[i] = make(chan chunkResult, 1)
	}
	rs := e.newReadSession()
	defer rs.close() // runs last, once the readers are done
	var wg sync.WaitGroup
	// Cancel first so that the launcher and readers stop, then wait for
	// them: nothing outlives the call.
	defer func() {
		cancel()
		wg.Wait()
		e.putChunkBufs(bufs)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := lo; i < hi; i++ {
			var buf []byte
			select {
			case buf = <-bufs:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				data, used, bad, err := e.readChunk(ctx, rs, man, i, buf)
				slots[i] <- chunkResult{data, used, bad, err}
			}(i)
		}
	}()
	var h hash.Hash
	if e.VerifyObjectHash && man.SHA256 != "" && off == 0 && n == man.Size {
		h = sha256.New()
	}
	var stats ReadStats
	pos := start
	for i := lo; i < hi; i++ {
		var r chunkResult
		select {
		case r = <-slots[i]:
		case <-ctx.Done():
			return stats, ctx.Err()
		}
		stats.BadBlocks += r.bad
		if r.err != nil {
			return stats, fmt.Errorf("read %s/%s chunk %d: %w", man.Bucket, man.Key, i, r.err)
		}
		if h != nil {
			h.Write(r.data)
		}
		data := r.data
		if end := pos + int64(len(data)); end > off+n {
			data = data[:off+n-pos]
		}
		if pos < off {
			data = data[off-pos:]
		}
		pos += int64(len(r.data))
		if _, err := w.Write(data); err != nil {
			return stats, fmt.Errorf("write %s/%s: %w", man.Bucket, man.Key, err)
		}
		bufs <- r.buf
	}
	if h == nil {
		return stats, nil
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != man.SHA256 {
		return stats, fmt.Errorf("%w: %s/%s: SHA-256 %s, manifest says %s", ErrUnreadable, man.Bucket, man.Key, got, man.SHA256)
	}
	return stats, nil
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
	for j := 0; j < n; j++ {
		b := c.Blocks[(first+j)%n]
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
