package placement

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/reedsolomon"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Defaults of an Engine.
const (
	DefaultChunkSize   = 4 << 20
	DefaultParallelism = 4
)

// Errors of the data path.
var (
	// ErrUnreadable: no copy or not enough shards of a chunk could be
	// read and verified.
	ErrUnreadable = errors.New("data unreadable")
	// ErrNoStore: no store of any tier could take a chunk.
	ErrNoStore = errors.New("no store can take the data")
)

// Engine stores objects on block stores as a policy says. It is safe for
// concurrent use.
type Engine struct {
	// Stores are the block stores by name. Set it before first use;
	// afterwards change it only with SetStore.
	Stores   map[string]blockstore.Store
	storesMu sync.RWMutex
	// collector receives replaced versions (StartCollector); sends and
	// its closing hold collectorMu (never a lock collect takes).
	collector   chan *Manifest
	collectorMu sync.Mutex
	Meta        *Meta
	// ChunkSize and Parallelism bound memory: about ChunkSize ×
	// (Parallelism+1) per Put or Get, whatever the object's size.
	ChunkSize   int
	Parallelism int
	// VerifyObjectHash also checks the whole object's SHA-256 on every
	// read. Each block is always checked (CRC-32C against the manifest, at
	// its chunk's position), so this guards only against bugs in nb
	// itself, and costs a core at about 1.4 GB/s: callers that hash what
	// they read anyway (nb verify) leave it off.
	VerifyObjectHash bool
	// NoExtents writes every block under a key of its own, even on stores
	// that hold extents (benchmarks and tests of that layout).
	NoExtents bool
	// PackMax is the largest object written to packs (pack.go): 0 for
	// DefaultPackMax, negative for never. PackSize is the size past which
	// a process starts a new pack (0: DefaultPackSize).
	PackMax  int64
	PackSize int64
	Now      func() time.Time
	// Budget, when set, bounds the chunk buffers of all calls at once.
	Budget *Budget

	// chunkBufs recycles chunk buffers between calls: a read after a
	// write (what nb verify does) reuses the write's buffers instead of
	// doubling the heap.
	chunkBufs sync.Pool
	// shardBufs recycles erasure-coded shards; coders caches a
	// Reed-Solomon coder per k+m.
	shardBufs sync.Pool
	coders    sync.Map
	// health puts stores that failed reads lately last (health.go).
	health storeHealth
	// packs are the packs this process appends to (pack.go).
	packs packWriters
}

// store returns the store of that name, or nil.
func (e *Engine) store(name string) blockstore.Store {
	e.storesMu.RLock()
	defer e.storesMu.RUnlock()
	return e.Stores[name]
}

// SetStore adds, replaces (s != nil) or removes (nil) a store while the
// engine is in use: what a running server does as BackingStores come and
// go, or as nb verify fails and restores one.
func (e *Engine) SetStore(name string, s blockstore.Store) {
	e.storesMu.Lock()
	defer e.storesMu.Unlock()
	if s == nil {
		delete(e.Stores, name)
		return
	}
	if e.Stores == nil {
		e.Stores = map[string]blockstore.Store{}
	}
	e.Stores[name] = s
}

// StoreNames lists the engine's stores.
func (e *Engine) StoreNames() []string {
	e.storesMu.RLock()
	defer e.storesMu.RUnlock()
	out := make([]string, 0, len(e.Stores))
	for n := range e.Stores {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// getChunkBuf returns a recycled chunk buffer of at least n bytes, or nil
// (callers allocate on first use).
func (e *Engine) getChunkBuf(n int) []byte {
	if b, ok := e.chunkBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return nil
}

// putChunkBufs hands the buffers left in ch back for the next call.
func (e *Engine) putChunkBufs(ch chan []byte) {
	for {
		select {
		case b := <-ch:
			if b != nil {
				e.chunkBufs.Put(&b)
			}
		default:
			return
		}
	}
}

func (e *Engine) chunkSize() int {
	if e.ChunkSize <= 0 {
		return DefaultChunkSize
	}
	return e.ChunkSize
}

func (e *Engine) parallelism() int {
	if e.Parallelism <= 0 {
		return DefaultParallelism
	}
	return e.Parallelism
}

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Now().UTC()
	}
	return e.Now().UTC()
}

// writeState is what one Put knows about its stores.
type writeState struct {
	objectID string
	weights  map[string]float64
	mu       sync.Mutex
	down     map[string]error
	degraded bool
	// written records every block written, for cleanup on failure.
	written []Block
	// extents are the extents being written, committed at the end.
	extents extentWriters
}

func (w *writeState) isDown(store string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.down[store] != nil
}

func (w *writeState) markDown(store string, err error) {
	w.mu.Lock()
	w.down[store] = err
	w.mu.Unlock()
}

func (w *writeState) record(b Block) {
	w.mu.Lock()
	w.written = append(w.written, b)
	w.mu.Unlock()
}

func newObjectID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("object id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func blockKey(objectID string, chunk, shard int) string {
	if shard < 0 {
		return fmt.Sprintf("blocks/%s/%s/%d", objectID[:2], objectID, chunk)
	}
	return fmt.Sprintf("blocks/%s/%s/%d.%d", objectID[:2], objectID, chunk, shard)
}

func manifestKey(bucket, key, objectID string) string {
	return "manifests/" + bucket + "/" + keyHash(key) + "/" + objectID
}

// keyHash names an object key on a store: the first 16 bytes of its
// SHA-256 in hex (object keys are arbitrary; store keys are not).
func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// Put streams r into bucket/key. The new version becomes visible only
// when all its chunks are written (one metadata transaction); until then
// readers see the previous version, and a failed Put leaves it in place.
func (e *Engine) Put(ctx context.Context, bucket, key string, pol Policy, r io.Reader) (*Manifest, error) {
	return e.PutWith(ctx, bucket, key, pol, r, PutOptions{})
}

// PutOptions are what an S3 PUT adds to a Put.
type PutOptions struct {
	// Attrs are stored with the object.
	Attrs *Attrs
	// Hashes are fed the object's bytes in order, each on a goroutine of
	// its own, alongside the writes (the ETag's MD5, an S3 checksum).
	Hashes []hash.Hash
	// NoSHA256 leaves the object's SHA-256 out of the manifest (an S3
	// object has its ETag, and every block its CRC-32C).
	NoSHA256 bool
	// Finish runs once every byte is written and hashed, before anything
	// is visible: it may complete the attributes from the hashes, or fail
	// the Put (a checksum that does not match).
	Finish func(*Manifest) error
	// Precondition runs in the commit's transaction with the current
	// version (nil when there is none); an error fails the Put.
	Precondition func(current *Manifest) error
	// Created, when set, is the object's creation time instead of now
	// (a re-placed object keeps its Last-Modified).
	Created time.Time
	// Length, when set, is the body's length as announced (an S3 PUT's
	// Content-Length): a small object then goes to packs (pack.go).
	Length *int64
	// Parts, when set, are the parts the object was composed of (a
	// re-placed multipart object keeps its part sizes and ETags; their
	// blocks are now the object's own).
	Parts []Part
}

// PutWith is Put with S3's extras.
func (e *Engine) PutWith(ctx context.Context, bucket, key string, pol Policy, r io.Reader, opt PutOptions) (*Manifest, error) {
	if opt.Length != nil && *opt.Length >= 0 && len(opt.Parts) == 0 && e.packable(pol, *opt.Length) {
		man, rest, err := e.putSmall(ctx, bucket, key, pol, r, *opt.Length, opt)
		if rest == nil {
			return man, err
		}
		r = rest // longer than announced: streamed as any other
	}
	man, st, err := e.writeObject(ctx, bucket, key, pol, r, opt)
	if err == nil && !opt.Created.IsZero() {
		man.Created = opt.Created
	}
	if err == nil && len(opt.Parts) > 0 {
		man.Parts = make([]Part, len(opt.Parts))
		for i, p := range opt.Parts {
			p.ObjectID = man.ObjectID
			man.Parts[i] = p
		}
	}
	if err == nil && opt.Finish != nil {
		err = opt.Finish(man)
	}
	if err == nil {
		err = e.writeManifestBlocks(ctx, man)
	}
	var replaced *Manifest
	if err == nil {
		replaced, err = e.Meta.CommitIf(man, opt.Precondition)
	}
	if err != nil {
		if st != nil {
			e.discard(ctx, st, man)
		}
		return nil, fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	if replaced != nil {
		e.collectLater(context.WithoutCancel(ctx), replaced)
	}
	return man, nil
}

// collectorQueue is how many replaced versions wait for the background
// collector before a Put collects its own.
const collectorQueue = 1024

// collectBatch is how many queued versions the collector takes at once.
const collectBatch = 256

// collectLinger is how long the collector waits for more replaced
// versions after the first before it collects them: a batch shares one
// sync per pack (the kill records) and one metadata transaction, so
// under sustained overwrites a fuller batch costs less per version.
const collectLinger = 100 * time.Millisecond

// StartCollector deletes the blocks of replaced versions on a goroutine
// of its own instead of in the Put that replaced them (a server: an
// overwrite then costs no more than a new object). Each version is on
// the garbage list from the moment it is replaced, so what the collector
// has not reached when it stops is collected later (CollectGarbage):
// stop waits only for the version being collected.
func (e *Engine) StartCollector(ctx context.Context) (stop func()) {
	q := make(chan *Manifest, collectorQueue)
	quit, done := make(chan struct{}), make(chan struct{})
	e.collectorMu.Lock()
	e.collector = q
	e.collectorMu.Unlock()
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case m := <-q:
				// Take what else comes within collectLinger, so that many
				// versions share their syncs and one metadata transaction.
				batch := []*Manifest{m}
				linger := time.NewTimer(collectLinger)
			more:
				for len(batch) < collectBatch {
					select {
					case m := <-q:
						batch = append(batch, m)
					case <-linger.C:
						break more
					case <-quit:
						linger.Stop()
						return // the batch is on the garbage list
					}
				}
				linger.Stop()
				e.collectMany(ctx, batch)
			}
		}
	}()
	return func() {
		e.collectorMu.Lock()
		e.collector = nil
		e.collectorMu.Unlock()
		close(quit)
		<-done
	}
}

// collectLater hands a replaced version to the background collector, or
// collects it now when there is none or it is behind.
func (e *Engine) collectLater(ctx context.Context, m *Manifest) {
	e.collectorMu.Lock()
	queued := false
	if e.collector != nil {
		select {
		case e.collector <- m:
			queued = true
		default:
		}
	}
	e.collectorMu.Unlock()
	if !queued {
		e.collect(ctx, m)
	}
}

// discard removes what a Put that failed wrote (its blocks, extents and
// manifest copies).
func (e *Engine) discard(ctx context.Context, st *writeState, man *Manifest) {
	st.extents.abort()
	written := st.written
	if man != nil {
		written = append(written, manifestCopies(man)...)
	}
	e.deleteBlocks(context.WithoutCancel(ctx), written)
}

// writeObject writes r's chunks and commits their extents: the object is
// on the stores, described by the manifest returned, but not yet visible.
func (e *Engine) writeObject(ctx context.Context, bucket, key string, pol Policy, r io.Reader, opt PutOptions) (*Manifest, *writeState, error) {
	if err := pol.Validate(); err != nil {
		return nil, nil, err
	}
	for _, t := range pol.Tiers {
		for _, s := range t.Stores {
			if e.store(s) == nil {
				return nil, nil, fmt.Errorf("store %q of the policy is not known", s)
			}
		}
	}
	id, err := newObjectID()
	if err != nil {
		return nil, nil, err
	}
	st := &writeState{objectID: id, weights: map[string]float64{}, down: map[string]error{}}
	for _, t := range pol.Tiers {
		for _, s := range t.Stores {
			c, err := e.store(s).Capacity(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				st.down[s] = err
				continue
			}
			st.weights[s] = weight(c)
		}
	}
	man := &Manifest{Version: ManifestVersion, Bucket: bucket, Key: key, ObjectID: id, ChunkSize: e.chunkSize(), Tiers: pol.Tiers, Attrs: opt.Attrs}
	hashes := opt.Hashes
	var sha hash.Hash
	if !opt.NoSHA256 {
		sha = sha256.New()
		hashes = append(hashes[:len(hashes):len(hashes)], sha)
	}
	chunks, size, err := e.writeChunks(ctx, st, pol, r, hashes)
	if err == nil {
		err = e.commitExtents(ctx, st, chunks)
	}
	if err != nil {
		e.discard(ctx, st, nil)
		return nil, nil, err
	}
	man.Chunks, man.Size, man.Created, man.Degraded = chunks, size, e.now(), st.degraded
	if sha != nil {
		man.SHA256 = hex.EncodeToString(sha.Sum(nil))
	}
	return man, st, nil
}

// weight is a store's share of Spread placement: its free space, or a
// large constant for stores of unknown size (S3).
func weight(c blockstore.Capacity) float64 {
	switch f := c.Free(); {
	case f < 0:
		return 1 << 50
	case f == 0:
		return 1
	default:
		return float64(f)
	}
}

type chunkJob struct {
	idx int
	buf []byte // header room + payload, or the data shards (below)
	n   int    // payload bytes
	// shards, when the chunk was read in place as erasure-coded data
	// shards, are buf's shard regions (header room + shard); nil when
	// buf holds the payload in one piece.
	shards [][]byte
	// refs counts who still reads buf (the writer and the hasher): the
	// last one hands it back.
	refs *atomic.Int32
}

// pieces calls f with the chunk's payload in order.
func (j chunkJob) pieces(f func([]byte)) {
	if j.shards == nil {
		f(j.buf[headerSize : headerSize+j.n])
		return
	}
	left := j.n
	for _, sh := range j.shards {
		p := sh[headerSize:]
		p = p[:min(len(p), left)]
		f(p)
		left -= len(p)
	}
}

// contiguous returns the chunk as one block (header room + payload),
// copying a sharded chunk into a new buffer: only a tier that falls back
// from the erasure-coded layout it was read in needs that.
func (j chunkJob) contiguous() []byte {
	if j.shards == nil {
		return j.buf[:headerSize+j.n]
	}
	b := make([]byte, headerSize, headerSize+j.n)
	j.pieces(func(p []byte) { b = append(b, p...) })
	return b
}

// shardLayout is how Put lays out its chunk buffers when the policy's
// first tier is erasure-coded: the k data shards one after another, each
// with header room and aligned to blockstore.ExtentAlign, so that they are
// read in place and written (by direct I/O) without a copy.
type shardLayout struct {
	k      int // 0: the payload in one piece after the header room
	shard  int // a full chunk's data shard, in bytes
	stride int // from one shard's header room to the next
}

func (e *Engine) layoutFor(pol Policy) shardLayout {
	t := pol.Tiers[0]
	if t.ParityShards == 0 {
		return shardLayout{}
	}
	s := (e.chunkSize() + t.DataShards - 1) / t.DataShards
	const a = blockstore.ExtentAlign
	return shardLayout{k: t.DataShards, shard: s, stride: (headerSize + s + a - 1) / a * a}
}

func (l shardLayout) bufSize(chunk int) int {
	if l.k == 0 {
		return headerSize + chunk
	}
	return l.k * l.stride
}

// read reads up to size bytes of r into buf. A full chunk of a sharded
// layout stays as shards; a short one (the object's last) is moved
// together into one piece, since its shards are smaller.
func (l shardLayout) read(r io.Reader, buf []byte, size int) (chunkJob, error) {
	if l.k == 0 {
		n, err := io.ReadFull(r, buf[headerSize:headerSize+size])
		return chunkJob{buf: buf[:headerSize+n], n: n}, err
	}
	j := chunkJob{buf: buf[:l.k*l.stride], shards: make([][]byte, l.k)}
	var err error
	for i := range j.shards {
		j.shards[i] = buf[i*l.stride : i*l.stride+headerSize+l.shard]
		if err == nil && j.n < size {
			var m int
			m, err = io.ReadFull(r, j.shards[i][headerSize:headerSize+min(l.shard, size-j.n)])
			j.n += m
		}
	}
	if j.n < size {
		// Left to right, each piece moves towards the start only.
		for i := 1; i < l.k && i*l.shard < j.n; i++ {
			copy(buf[headerSize+i*l.shard:], j.shards[i][headerSize:headerSize+min(l.shard, j.n-i*l.shard)])
		}
		j.buf, j.shards = buf[:headerSize+j.n], nil
	}
	return j, err
}

// writeChunks reads r chunk by chunk into a fixed set of buffers and
// writes them with Parallelism workers.
func (e *Engine) writeChunks(ctx context.Context, st *writeState, pol Policy, r io.Reader, hashes []hash.Hash) ([]Chunk, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	size := e.chunkSize()
	par := e.parallelism()
	layout := e.layoutFor(pol)
	nbufs, err := e.Budget.take(ctx, par+1)
	if err != nil {
		return nil, 0, err
	}
	defer e.Budget.give(nbufs)
	free := make(chan []byte, par+1)
	for i := 0; i < nbufs; i++ {
		free <- e.getChunkBuf(layout.bufSize(size)) // nil: allocated on first use
	}
	defer e.putChunkBufs(free)
	jobs := make(chan chunkJob)
	release := func(j chunkJob) {
		if j.refs.Add(-1) == 0 {
			free <- j.buf[:cap(j.buf)]
		}
	}
	// Each hash (the object's SHA-256, an S3 PUT's MD5...) is computed by
	// a goroutine of its own, in chunk order, on the same buffers the
	// writers use: reading and hashing are the serial stages of a Put,
	// and on one goroutine they held every write back
	// (docs/benchmarks.md). A hash queue never blocks the reader: it
	// holds as many chunks as there are buffers.
	hashqs := make([]chan chunkJob, len(hashes))
	var hashing sync.WaitGroup
	for i, h := range hashes {
		q := make(chan chunkJob, par+1)
		hashqs[i] = q
		hashing.Add(1)
		go func() {
			defer hashing.Done()
			for j := range q {
				j.pieces(func(p []byte) { h.Write(p) })
				release(j)
			}
		}()
	}
	var mu sync.Mutex
	var chunks []Chunk
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c, err := e.writeChunk(ctx, st, pol, j)
				release(j)
				if err != nil {
					cancel(fmt.Errorf("chunk %d: %w", j.idx, err))
					continue
				}
				mu.Lock()
				for len(chunks) <= j.idx {
					chunks = append(chunks, Chunk{})
				}
				chunks[j.idx] = c
				mu.Unlock()
			}
		}()
	}
	var total int64
	var readErr error
	for idx := 0; ; idx++ {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		if buf == nil {
			// Capacity to the alignment, so that an uncached read reusing
			// the buffer takes a whole block by direct I/O.
			n := layout.bufSize(size)
			buf = make([]byte, n, alignUp(n))
		}
		j, err := layout.read(r, buf, size)
		if j.n > 0 {
			total += int64(j.n)
			j.idx, j.refs = idx, new(atomic.Int32)
			j.refs.Store(int32(1 + len(hashqs)))
			for _, q := range hashqs {
				q <- j
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				release(j)
			}
		} else {
			free <- buf
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("read the object: %w", err)
			break
		}
	}
	close(jobs)
	for _, q := range hashqs {
		close(q)
	}
	wg.Wait()
	hashing.Wait()
	if readErr != nil {
		return nil, 0, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return nil, 0, err
	}
	return chunks, total, nil
}

// writeChunk places one chunk on the first tier that takes it.
func (e *Engine) writeChunk(ctx context.Context, st *writeState, pol Policy, j chunkJob) (Chunk, error) {
	idx := j.idx
	var block []byte // the chunk in one piece, once a tier needs it so
	whole := func() []byte {
		if block == nil {
			block = j.contiguous()
		}
		return block
	}
	var lastErr error
	for ti, t := range pol.Tiers {
		c := Chunk{Size: j.n, Tier: ti, Placement: t.Placement, DataShards: t.DataShards, ParityShards: t.ParityShards}
		var err error
		switch {
		case t.Placement == "Mirror":
			b := whole()
			c.CRC = sealBlock(b, kindData)
			zeroPadding(b)
			c.Blocks, err = e.writeMirror(ctx, st, ti, t, idx, b, c.CRC)
		case t.ParityShards > 0 && len(j.shards) == t.DataShards:
			c.CRC, c.Blocks, err = e.writeShards(ctx, st, ti, t, idx, nil, j.shards, j.n)
		case t.ParityShards > 0:
			c.CRC, c.Blocks, err = e.writeShards(ctx, st, ti, t, idx, whole()[headerSize:], nil, j.n)
		default:
			b := whole()
			c.CRC = sealBlock(b, kindData)
			zeroPadding(b)
			var blk Block
			blk, err = e.writeOne(ctx, st, rank(t.Stores, st, idx), ti, t, idx, b, c.CRC)
			c.Blocks = []Block{blk}
		}
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return Chunk{}, ctx.Err()
		}
		lastErr = err
	}
	return Chunk{}, lastErr
}

func (e *Engine) writeMirror(ctx context.Context, st *writeState, ti int, t Tier, idx int, block []byte, sum uint32) ([]Block, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var blocks []Block
	var errs []error
	for _, s := range t.Stores {
		if st.isDown(s) {
			continue
		}
		wg.Add(1)
		go func(s string) {
			defer wg.Done()
			b, err := e.putBlock(ctx, st, s, ti, t, idx, -1, block, sum)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				st.markDown(s, err)
				return
			}
			blocks = append(blocks, b)
		}(s)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("%w: every mirror of the tier failed: %w", ErrNoStore, errors.Join(errs...))
	}
	if len(blocks) < len(t.Stores) {
		st.mu.Lock()
		st.degraded = true
		st.mu.Unlock()
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].Store < blocks[j].Store })
	return blocks, nil
}

// writeOne writes a Spread chunk's block to the first store of candidates
// that takes it, skipping stores that are down.
func (e *Engine) writeOne(ctx context.Context, st *writeState, candidates []string, ti int, t Tier, idx int, block []byte, sum uint32) (Block, error) {
	var errs []error
	for _, s := range candidates {
		if st.isDown(s) {
			continue
		}
		b, err := e.putBlock(ctx, st, s, ti, t, idx, -1, block, sum)
		if err == nil {
			return b, nil
		}
		if ctx.Err() != nil {
			return Block{}, ctx.Err()
		}
		errs = append(errs, err)
		if !errors.Is(err, blockstore.ErrNoSpace) {
			st.markDown(s, err)
		}
	}
	return Block{}, fmt.Errorf("%w: %w", ErrNoStore, errors.Join(errs...))
}

// writeShards erasure-codes a chunk of n bytes, given as payload or as
// its data shards in place (see encodeShards), and writes its shards,
// returning the chunk's CRC-32C and the shards' blocks.
func (e *Engine) writeShards(ctx context.Context, st *writeState, ti int, t Tier, idx int, payload []byte, data [][]byte, n int) (uint32, []Block, error) {
	shards, pooled, sums, chunkSum, err := e.encodeShards(t.DataShards, t.ParityShards, payload, data, n)
	if err != nil {
		return 0, nil, err
	}
	defer e.putShardBufs(pooled)
	ranked := rank(t.Stores, st, idx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	used := map[string]bool{}
	var blocks []Block
	var errs []error
	// First choice: shard i on the i-th ranked store; a failed store's
	// shard moves to a spare store of the tier, never to one that holds
	// another shard of this chunk.
	for i, shard := range shards {
		first := ""
		if i < len(ranked) {
			first = ranked[i]
		}
		wg.Add(1)
		go func(i int, shard []byte, first string) {
			defer wg.Done()
			sum := sums[i]
			candidates := append([]string{first}, ranked...)
			for {
				mu.Lock()
				target := ""
				for _, c := range candidates {
					if c != "" && !used[c] && !st.isDown(c) {
						target = c
						break
					}
				}
				if target != "" {
					used[target] = true
				}
				mu.Unlock()
				if target == "" {
					mu.Lock()
					errs = append(errs, fmt.Errorf("shard %d: no store left", i))
					mu.Unlock()
					return
				}
				b, err := e.putBlock(ctx, st, target, ti, t, idx, i, shard, sum)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					st.markDown(target, err)
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				mu.Lock()
				blocks = append(blocks, b)
				mu.Unlock()
				return
			}
		}(i, shard, first)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, nil, ctx.Err()
	}
	if len(blocks) < t.DataShards {
		return 0, nil, fmt.Errorf("%w: only %d of %d shards written: %w", ErrNoStore, len(blocks), len(shards), errors.Join(errs...))
	}
	if len(blocks) < len(shards) {
		st.mu.Lock()
		st.degraded = true
		st.mu.Unlock()
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].Shard < blocks[j].Shard })
	return chunkSum, blocks, nil
}

// encodeShards erasure-codes a chunk of n payload bytes into k data and
// m parity shards, each a sealed block (header room + payload). The data
// shards are either data, the chunk's own buffer read as shards (each at
// least header room + ceil(n/k) long), or copied out of payload. It
// returns the blocks, their payloads' CRC-32C, the CRC-32C of the chunk's
// payload (combined from the data shards' instead of a pass of its own)
// and the buffers to hand back to the pool once the blocks are written.
func (e *Engine) encodeShards(k, m int, payload []byte, data [][]byte, n int) (blocks, pooled [][]byte, sums []uint32, chunkSum uint32, err error) {
	enc, err := e.coder(k, m)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	shardSize := (n + k - 1) / k
	blocks = make([][]byte, k+m)
	shards := make([][]byte, k+m)
	for i := range blocks {
		if i < k && data != nil {
			blocks[i] = data[i][:headerSize+shardSize]
		} else {
			blocks[i] = e.getShardBuf(headerSize + shardSize)
			pooled = append(pooled, blocks[i])
		}
		shards[i] = blocks[i][headerSize:]
		if i < k {
			start := min(i*shardSize, n)
			filled := min(shardSize, n-start)
			if data == nil {
				copy(shards[i], payload[start:start+filled])
			}
			clear(shards[i][filled:])
		}
	}
	if err := enc.Encode(shards); err != nil {
		e.putShardBufs(pooled)
		return nil, nil, nil, 0, fmt.Errorf("erasure encode: %w", err)
	}
	sums = make([]uint32, k+m)
	for i := range blocks {
		sums[i] = sealBlock(blocks[i], kindData)
	}
	// The payload is the data shards end to end, without the zeros that
	// pad the last ones: a padded shard's payload part is summed apart.
	for i := 0; i < k && i*shardSize < n; i++ {
		filled := min(shardSize, n-i*shardSize)
		s := sums[i]
		if filled < shardSize {
			s = crc(shards[i][:filled])
		}
		chunkSum = crcCombine(chunkSum, s, filled)
	}
	return blocks, pooled, sums, chunkSum, nil
}

// coder returns the engine's Reed-Solomon coder for k+m (they are safe
// for concurrent use, and costly to build for every chunk).
func (e *Engine) coder(k, m int) (reedsolomon.Encoder, error) {
	key := [2]int{k, m}
	if c, ok := e.coders.Load(key); ok {
		return c.(reedsolomon.Encoder), nil
	}
	c, err := reedsolomon.New(k, m)
	if err != nil {
		return nil, fmt.Errorf("erasure coder %d+%d: %w", k, m, err)
	}
	got, _ := e.coders.LoadOrStore(key, c)
	return got.(reedsolomon.Encoder), nil
}

// getShardBuf returns a recycled shard buffer: erasure coding would
// otherwise allocate k+m buffers per chunk.
func (e *Engine) getShardBuf(n int) []byte {
	if b, ok := e.shardBufs.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

func (e *Engine) putShardBufs(bufs [][]byte) {
	for i := range bufs {
		b := bufs[i]
		e.shardBufs.Put(&b)
	}
}

// rank orders a tier's stores for a chunk by weighted rendezvous hashing:
// deterministic for an object and chunk, and proportional to free space.
func rank(stores []string, st *writeState, idx int) []string {
	type scored struct {
		name  string
		score float64
	}
	var list []scored
	for _, s := range stores {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%d/%s", st.objectID, idx, s)
		u := (float64(h.Sum64()>>11) + 0.5) / (1 << 53)
		w := st.weights[s]
		if w == 0 {
			w = 1
		}
		list = append(list, scored{s, w / -math.Log(u)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].score > list[j].score })
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.name
	}
	return out
}

// writeManifestBlocks copies the manifest to every store holding a block
// of the object, so that the bucket can be rebuilt from its stores.
func (e *Engine) writeManifestBlocks(ctx context.Context, man *Manifest) error {
	raw, err := EncodeManifest(man)
	if err != nil {
		return err
	}
	buf, _ := newBlock(raw, kindManifest)
	key := manifestKey(man.Bucket, man.Key, man.ObjectID)
	packed := len(packRefs(man)) > 0
	for _, s := range man.stores() {
		if packed && !man.Copies && onlyPacked(man, s) {
			continue // its pack record is the copy
		}
		if err := e.store(s).Put(ctx, key, buf); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// SetTags replaces the tag set of an object's current version (nil or
// empty: none), in the metadata and in the manifest copies on its
// stores (a store that is down keeps the older copy, which has the lower
// Rev).
func (e *Engine) SetTags(ctx context.Context, bucket, key string, tags map[string]string) (*Manifest, error) {
	unlock := e.Meta.lockObject(bucket, key)
	defer unlock()
	man, err := e.Meta.SetTags(bucket, key, tags)
	if err != nil {
		return nil, err
	}
	return man, e.writeManifestBlocks(ctx, man)
}

// stores lists the stores holding blocks of the object.
func (m *Manifest) stores() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range m.Chunks {
		for _, b := range c.Blocks {
			if !seen[b.Store] {
				seen[b.Store] = true
				out = append(out, b.Store)
			}
		}
	}
	if len(out) == 0 {
		for _, t := range m.Tiers {
			out = append(out, t.Stores...)
		}
	}
	sort.Strings(out)
	return out
}

// deleteBlocks deletes blocks (an extent once, however many of its blocks
// are listed) and reports whether every delete succeeded.
func (e *Engine) deleteBlocks(ctx context.Context, blocks []Block) bool {
	ok := true
	done := map[[2]string]bool{}
	for _, b := range blocks {
		id := [2]string{b.Store, b.Key}
		if done[id] || b.Pack {
			continue // a pack goes when no version counts it (pack.go)
		}
		done[id] = true
		if s := e.store(b.Store); s == nil || s.Delete(ctx, b.Key) != nil {
			ok = false
		}
	}
	return ok
}

// collect deletes a replaced or deleted version's blocks and manifest
// copies; what a down store still holds stays on the garbage list.
func (e *Engine) collect(ctx context.Context, man *Manifest) {
	e.collectMany(ctx, []*Manifest{man})
}

// collectMany collects versions together: their pack records are marked
// dead with one sync per pack, and their garbage entries leave in one
// transaction.
func (e *Engine) collectMany(ctx context.Context, mans []*Manifest) {
	var records []Block
	blocks := make([][]Block, len(mans))
	for i, man := range mans {
		for _, c := range man.Chunks {
			for _, b := range c.Blocks {
				if b.Pack {
					records = append(records, b)
				}
			}
		}
		blocks[i] = e.garbageBlocks(ctx, man)
	}
	failed := e.killRecords(ctx, records)
	var forget []*Manifest
	for i, man := range mans {
		ok := e.deleteBlocks(ctx, blocks[i])
		for _, c := range man.Chunks {
			for _, b := range c.Blocks {
				if b.Pack && failed[[2]string{b.Store, b.Key}] {
					ok = false
				}
			}
		}
		if ok {
			forget = append(forget, man)
		}
	}
	if zero, err := e.Meta.Forget(forget...); err == nil {
		e.dropPacks(ctx, zero)
	}
}

// garbageBlocks lists what collecting a version deletes besides its pack
// records: its blocks, manifest copies and extents (those on stores that
// hold no block of it are deleted here, best effort).
func (e *Engine) garbageBlocks(ctx context.Context, man *Manifest) []Block {
	var blocks []Block
	for _, c := range man.Chunks {
		blocks = append(blocks, c.Blocks...)
	}
	packed := len(packRefs(man)) > 0
	holders := map[string]bool{}
	for _, s := range man.stores() {
		holders[s] = true
		if packed && !man.Copies && onlyPacked(man, s) {
			continue // no manifest copy but its pack record
		}
		blocks = append(blocks, Block{Store: s, Key: manifestKey(man.Bucket, man.Key, man.ObjectID)})
	}
	// An extent a repair has moved every block out of is not in the
	// chunks any more: delete each tier's extent on every store that may
	// hold one (best effort on stores that hold no block of the object).
	// A multipart object's blocks are in its parts' extents.
	ids := []string{man.ObjectID}
	for _, p := range man.Parts {
		ids = append(ids, p.ObjectID)
	}
	var extra []Block
	for ti, t := range man.Tiers {
		if packed {
			break // written to packs, never to extents
		}
		for _, s := range t.Stores {
			if _, ok := blockstore.ExtentsOf(e.store(s)); !ok {
				continue
			}
			for _, id := range ids {
				b := Block{Store: s, Key: extentKey(id, ti)}
				if holders[s] {
					blocks = append(blocks, b)
				} else {
					extra = append(extra, b)
				}
			}
		}
	}
	e.deleteBlocks(ctx, extra)
	return blocks
}

// Delete removes an object and its blocks. Blocks on a store that is
// down stay on the garbage list for CollectGarbage, and a tombstone on
// the other stores keeps Recover from bringing the object back meanwhile.
func (e *Engine) Delete(ctx context.Context, bucket, key string) error {
	return e.DeleteIf(ctx, bucket, key, nil)
}

// DeleteIf is Delete when cond, given the current version in the removal's
// transaction, returns nil (S3's conditional delete); its error otherwise.
func (e *Engine) DeleteIf(ctx context.Context, bucket, key string, cond func(current *Manifest) error) error {
	man, err := e.Meta.RemoveIf(bucket, key, cond)
	if err != nil {
		return err
	}
	e.collect(ctx, man)
	return e.markDeleted(ctx, bucket, key, man)
}

// markDeleted writes a tombstone for bucket/key (key "": the bucket) if a
// dead version of it may still be on a store: on the stores of those
// versions and of the deleted ones.
func (e *Engine) markDeleted(ctx context.Context, bucket, key string, deleted ...*Manifest) error {
	garbage, err := e.Meta.Garbage()
	if err != nil {
		return err
	}
	dead := deadVersions(garbage, bucket, key)
	if len(dead) == 0 {
		return nil
	}
	if err := e.writeTombstone(ctx, bucket, key, storesOf(append(dead, deleted...))); err != nil {
		return fmt.Errorf("record the deletion of %s: %w", tombstoneName(bucket, key), err)
	}
	return nil
}

// CollectGarbage retries deleting the blocks of replaced and deleted
// versions, then removes the tombstones no longer needed.
func (e *Engine) CollectGarbage(ctx context.Context) error {
	list, err := e.Meta.Garbage()
	if err != nil {
		return err
	}
	for _, m := range list {
		e.collect(ctx, m)
	}
	if err := e.sweepPacks(ctx); err != nil {
		return err
	}
	return e.removeTombstones(ctx)
}

// Stat returns an object's manifest.
func (e *Engine) Stat(bucket, key string) (*Manifest, error) { return e.Meta.Get(bucket, key) }

// StoreFree reports the free space of the named stores (-1: unknown), for
// Policy.Free. A store that is missing or cannot say is left out.
func (e *Engine) StoreFree(ctx context.Context, names []string) map[string]int64 {
	out := map[string]int64{}
	for _, n := range names {
		s := e.store(n)
		if s == nil {
			continue
		}
		if c, err := s.Capacity(ctx); err == nil {
			out[n] = c.Free()
		}
	}
	return out
}
