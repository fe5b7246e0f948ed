package placement

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Extents: on a store that holds them (blockstore.Extents: dir stores),
// a Put writes all the blocks one tier places on the store into one
// extent, extentKey(object, tier), block i at slot i. A read of a large
// object is then a sequential read of a few files instead of one file per
// chunk. Stores without extents (S3) get one block per key.

// extentKey names the extent of an object's blocks of one tier on a store.
func extentKey(objectID string, tier int) string {
	return fmt.Sprintf("blocks/%s/%s/x%d", objectID[:2], objectID, tier)
}

// slotSize is the room a block of tier t takes in an extent: its largest
// block, header included, rounded up to blockstore.ExtentAlign so that
// every block starts aligned and may be padded.
func (e *Engine) slotSize(t Tier) int64 {
	payload := e.chunkSize()
	if t.ParityShards > 0 {
		payload = (payload + t.DataShards - 1) / t.DataShards
	}
	const a = blockstore.ExtentAlign
	return int64(headerSize+payload+a-1) / a * a
}

// zeroPadding zeroes what block's buffer holds past it up to the
// alignment (a chunk buffer's capacity is rounded up to it), before the
// block is handed to the stores' writers: padded then writes the block and
// its padding as one aligned write, one I/O per block instead of the
// block's bulk and then its tail through a scratch block.
func zeroPadding(block []byte) {
	if pad := alignUp(len(block)); cap(block) >= pad {
		clear(block[len(block):pad])
	}
}

// padded is a copy's block with its zeroed padding (zeroPadding), when its
// buffer has the room and the block is large (where a direct write is
// what the store does; small blocks are not worth a padded write, and the
// padding counts against a store's capacity). Shards are written as they
// are: their buffers' capacity runs into the next shard's.
func padded(block []byte, shard int) []byte {
	if pad := alignUp(len(block)); shard < 0 && len(block) >= padMin && cap(block) >= pad {
		return block[:pad]
	}
	return block
}

// padMin is the smallest block written with its padding.
const padMin = 64 << 10

func alignUp(n int) int {
	const a = blockstore.ExtentAlign
	return (n + a - 1) / a * a
}

// extentWriters are the extents one Put has open, by store and tier.
type extentWriters struct {
	mu sync.Mutex
	m  map[extentID]blockstore.ExtentWriter
}

type extentID struct {
	store string
	tier  int
}

// writer returns the Put's extent for store and tier, creating it.
func (x *extentWriters) writer(ctx context.Context, xs blockstore.Extents, id extentID, key string) (blockstore.ExtentWriter, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if w := x.m[id]; w != nil {
		return w, nil
	}
	w, err := xs.CreateExtent(ctx, key)
	if err != nil {
		return nil, err
	}
	if x.m == nil {
		x.m = map[extentID]blockstore.ExtentWriter{}
	}
	x.m[id] = w
	return w, nil
}

// abort discards every extent not committed.
func (x *extentWriters) abort() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, w := range x.m {
		w.Abort()
	}
}

// putBlock writes block (header and payload) for chunk idx, shard shard
// (-1: a copy, whose padding zeroPadding has zeroed) of tier ti to store s:
// into the Put's extent on the store when it holds extents, else as a
// block of its own.
func (e *Engine) putBlock(ctx context.Context, st *writeState, s string, ti int, t Tier, idx, shard int, block []byte, sum uint32) (Block, error) {
	b := Block{Store: s, Shard: shard, Size: len(block) - headerSize, CRC: sum}
	store := e.store(s)
	if xs, ok := blockstore.ExtentsOf(store); ok && !e.NoExtents {
		b.Key, b.Extent, b.Off = extentKey(st.objectID, ti), true, int64(idx)*e.slotSize(t)
		w, err := st.extents.writer(ctx, xs, extentID{s, ti}, b.Key)
		if err == nil {
			err = w.WriteAt(ctx, padded(block, shard), b.Off)
		}
		if err != nil {
			return Block{}, err
		}
	} else {
		b.Key = blockKey(st.objectID, idx, shard)
		if err := store.Put(ctx, b.Key, block); err != nil {
			return Block{}, err
		}
	}
	st.record(b)
	return b, nil
}

// commitExtents commits a Put's extents, all at once. The blocks of an
// extent that fails to commit are dropped from the chunks, which makes the
// object degraded, or the Put fail where a chunk is left with too few
// blocks to be read.
func (e *Engine) commitExtents(ctx context.Context, st *writeState, chunks []Chunk) error {
	st.extents.mu.Lock()
	ids := make([]extentID, 0, len(st.extents.m))
	writers := make([]blockstore.ExtentWriter, 0, len(st.extents.m))
	for id, w := range st.extents.m {
		ids, writers = append(ids, id), append(writers, w)
	}
	st.extents.mu.Unlock()
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.Commit(ctx)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := map[extentID]bool{}
	var failures []error
	for i, err := range errs {
		if err != nil {
			failed[ids[i]] = true
			failures = append(failures, err)
			st.markDown(ids[i].store, err)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	st.mu.Lock()
	st.degraded = true
	st.mu.Unlock()
	for i := range chunks {
		c := &chunks[i]
		kept := c.Blocks[:0]
		for _, b := range c.Blocks {
			if !(b.Extent && failed[extentID{b.Store, c.Tier}]) {
				kept = append(kept, b)
			}
		}
		c.Blocks = kept
		if need := c.DataShards; len(c.Blocks) == 0 || len(c.Blocks) < need {
			return fmt.Errorf("%w: chunk %d: %d blocks left after failed commits: %w", ErrNoStore, i, len(c.Blocks), errors.Join(failures...))
		}
	}
	return nil
}

// readSession keeps the extents a read has opened, so that the blocks of
// one extent are read through one handle (one sequential reader to the
// kernel's read-ahead).
type readSession struct {
	e  *Engine
	mu sync.Mutex
	// m holds the open extents by store and key.
	m map[[2]string]blockstore.ExtentReader
	// failed holds the stores that failed this read (see noteResult).
	failed map[string]bool
	// uncached: extents are read around the page cache where the store
	// can (ReadManifestUncached).
	uncached bool
}

func (e *Engine) newReadSession() *readSession {
	return &readSession{e: e, m: map[[2]string]blockstore.ExtentReader{}}
}

// read returns the raw block b (header and payload), in buf if it fits.
func (rs *readSession) read(ctx context.Context, b Block, buf []byte) ([]byte, error) {
	s := rs.e.store(b.Store)
	if s == nil {
		return nil, fmt.Errorf("store %q is not known", b.Store)
	}
	if !b.Extent {
		return blockstore.GetInto(ctx, s, b.Key, buf)
	}
	xs, ok := blockstore.ExtentsOf(s)
	if !ok {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, b.Store, "read extent", b.Key, errors.New("the store holds no extents"))
	}
	r, err := rs.reader(ctx, xs, b)
	if err != nil {
		return nil, err
	}
	if u, ok := r.(blockstore.UncachedReader); ok && rs.uncached {
		return u.ReadAtUncached(ctx, b.Off, headerSize+b.Size, buf)
	}
	return r.ReadAt(ctx, b.Off, headerSize+b.Size, buf)
}

func (rs *readSession) reader(ctx context.Context, xs blockstore.Extents, b Block) (blockstore.ExtentReader, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	id := [2]string{b.Store, b.Key}
	if r := rs.m[id]; r != nil {
		return r, nil
	}
	r, err := xs.OpenExtent(ctx, b.Key)
	if err != nil {
		return nil, err
	}
	rs.m[id] = r
	return r, nil
}

// close closes every handle the session opened.
func (rs *readSession) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for id, r := range rs.m {
		r.Close()
		delete(rs.m, id)
	}
}
