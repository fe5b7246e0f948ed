package placement

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/process"
)

// Packs: an object small enough (Engine.PackMax) whose policy places it
// on stores that append to extents (blockstore.Appender: dir stores) is
// written as one record appended to a pack, an extent this process shares
// between thousands of small objects: its manifest block followed by its
// data block, on each store the policy puts a copy on. Concurrent PUTs
// share the pack's write and sync (docs/benchmarks.md: a file, two
// folders and six syncs per object before), and the record is also the
// object's manifest copy on that store, which Recover reads back.
//
// A pack is named packs/<pid>-<random> after the process appending to it,
// which moves to a new pack past Engine.PackSize. The metadata counts, per
// pack, the versions (current or waiting on the garbage list) that have a
// block in it; a pack is deleted once its count is back at zero and no
// process appends to it any more. Nothing is ever deleted for not being
// counted: metadata that is lost or rebuilt (nb recover) leaves packs
// alone. A collected version's record is marked dead, so that Recover
// never brings it back; CompactPacks moves the last live records out of a
// pack that is mostly dead (docs/serve.md).

// Defaults of the pack path.
const (
	DefaultPackMax  = 128 << 10
	DefaultPackSize = 16 << 20
)

var bucketPacks = []byte("packs")

func (e *Engine) packMax() int64 {
	switch {
	case e.PackMax < 0:
		return -1
	case e.PackMax == 0:
		return DefaultPackMax
	}
	return e.PackMax
}

func (e *Engine) packSize() int64 {
	if e.PackSize > 0 {
		return e.PackSize
	}
	return DefaultPackSize
}

// packWriters are the packs this process appends to.
type packWriters struct {
	mu sync.Mutex
	// cur is the pack each store's small objects go to now.
	cur map[string]*packFile
	// open holds every pack of this process still in use: current, or
	// with appends not yet committed or discarded.
	open map[[2]string]*packFile
}

type packFile struct {
	store, key string
	size       int64
	pending    int
	retired    bool
}

// acquire returns the pack a record of n bytes goes to on store, counted
// as pending until release.
func (e *Engine) acquirePack(store string, n int) (*packFile, error) {
	p := &e.packs
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		p.cur, p.open = map[string]*packFile{}, map[[2]string]*packFile{}
	}
	f := p.cur[store]
	if f == nil || f.size+int64(n) > e.packSize() && f.size > 0 {
		if f != nil {
			e.retireLocked(f)
		}
		var rnd [8]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, fmt.Errorf("pack name: %w", err)
		}
		f = &packFile{store: store, key: "packs/" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:])}
		p.cur[store] = f
		p.open[[2]string{store, f.key}] = f
	}
	f.size += int64(n)
	f.pending++
	return f, nil
}

// releasePack ends a record's pending state (committed or given up); a
// failed append retires the pack (its tail is unknown).
func (e *Engine) releasePack(f *packFile, failed bool) {
	p := &e.packs
	p.mu.Lock()
	defer p.mu.Unlock()
	f.pending--
	if failed && !f.retired {
		e.retireLocked(f)
	}
	if f.retired && f.pending == 0 {
		delete(p.open, [2]string{f.store, f.key})
		if a, ok := blockstore.AppenderOf(e.store(f.store)); ok {
			_ = a.CloseAppend(f.key)
		}
	}
}

func (e *Engine) retireLocked(f *packFile) {
	f.retired = true
	if e.packs.cur[f.store] == f {
		delete(e.packs.cur, f.store)
	}
	if f.pending == 0 {
		delete(e.packs.open, [2]string{f.store, f.key})
		if a, ok := blockstore.AppenderOf(e.store(f.store)); ok {
			_ = a.CloseAppend(f.key)
		}
	}
}

// packInUse reports whether a pack may still get records: this process
// appends to it, or another live process owns it. With retireIdle, this
// process's current pack with no append under way is retired instead
// (its count is zero: dropping it lets a store that no policy writes to
// any more end up empty; the next record starts a new pack).
func (e *Engine) packInUse(store, key string, retireIdle bool) bool {
	name, ok := strings.CutPrefix(key, "packs/")
	pidText, _, ok2 := strings.Cut(name, "-")
	pid, err := strconv.Atoi(pidText)
	if !ok || !ok2 || err != nil || pid <= 0 {
		return true // not a pack nb names: never dropped
	}
	if pid != os.Getpid() {
		return process.Alive(pid)
	}
	e.packs.mu.Lock()
	defer e.packs.mu.Unlock()
	f := e.packs.open[[2]string{store, key}]
	if f == nil {
		return false
	}
	if retireIdle && f.pending == 0 {
		e.retireLocked(f)
		return false
	}
	return true
}

// packable reports whether a Put of size bytes under pol goes to packs:
// small, no erasure coding, every store appends.
func (e *Engine) packable(pol Policy, size int64) bool {
	if max := e.packMax(); max < 0 || size > max || size > int64(e.chunkSize()) || e.NoExtents {
		return false
	}
	for _, t := range pol.Tiers {
		if t.ParityShards > 0 {
			return false
		}
		for _, s := range t.Stores {
			st := e.store(s)
			if st == nil {
				return false
			}
			if _, ok := blockstore.AppenderOf(st); !ok {
				return false
			}
		}
	}
	return true
}

// packRefs are the packs a manifest has blocks in, as store\x00key.
func packRefs(m *Manifest) []string {
	var out []string
	for _, c := range m.Chunks {
		for _, b := range c.Blocks {
			if b.Pack {
				r := b.Store + "\x00" + b.Key
				if !slices.Contains(out, r) {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// onlyPacked reports whether a store holds only pack blocks of m (its
// pack record is then its manifest copy) or none.
func onlyPacked(m *Manifest, store string) bool {
	for _, c := range m.Chunks {
		for _, b := range c.Blocks {
			if b.Store == store && !b.Pack {
				return false
			}
		}
	}
	return true
}

// countPacks adds d to the counts of a manifest's packs, in tx. A count
// never goes below zero (metadata rebuilt by Recover may not have counted
// a version it collects); it returns the packs left at zero.
func countPacks(tx *bolt.Tx, m *Manifest, d int64) ([]string, error) {
	return countRefs(tx, packRefs(m), d)
}

func countRefs(tx *bolt.Tx, refs []string, d int64) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketPacks)
	if err != nil {
		return nil, err
	}
	var zero []string
	for _, r := range refs {
		var n int64
		if v := b.Get([]byte(r)); len(v) == 8 {
			n = int64(binary.BigEndian.Uint64(v))
		}
		n = max(n+d, 0)
		if err := b.Put([]byte(r), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
			return nil, err
		}
		if n == 0 {
			zero = append(zero, r)
		}
	}
	return zero, nil
}

// putSmall writes a small object as pack records. It reports false (and
// nothing written) when the body turns out longer than announced: the
// caller then streams it, starting with what was read.
func (e *Engine) putSmall(ctx context.Context, bucket, key string, pol Policy, r io.Reader, size int64, opt PutOptions) (*Manifest, io.Reader, error) {
	if err := pol.Validate(); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, headerSize+size+1)
	n, err := io.ReadFull(r, buf[headerSize:])
	switch {
	case err == nil:
		return nil, io.MultiReader(bytes.NewReader(buf[headerSize:]), r), nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return nil, nil, fmt.Errorf("put %s/%s: read the object: %w", bucket, key, err)
	}
	if n == 0 {
		// An empty object has no chunk to make a record of: its manifest
		// copies go where the generic path puts them.
		return nil, bytes.NewReader(nil), nil
	}
	block := buf[:headerSize+n]
	payload := block[headerSize:]
	for _, h := range opt.Hashes {
		h.Write(payload)
	}
	id, err := newObjectID()
	if err != nil {
		return nil, nil, err
	}
	man := &Manifest{Version: ManifestVersion, Bucket: bucket, Key: key, ObjectID: id, ChunkSize: e.chunkSize(), Tiers: pol.Tiers,
		Attrs: opt.Attrs, Size: int64(n), Created: e.now()}
	if !opt.Created.IsZero() {
		man.Created = opt.Created
	}
	if !opt.NoSHA256 {
		sum := sha256.Sum256(payload)
		man.SHA256 = hex.EncodeToString(sum[:])
	}
	sum := sealBlock(block, kindData)
	man.Chunks = []Chunk{{Size: n, CRC: sum, Tier: 0, Placement: pol.Tiers[0].Placement}}
	if opt.Finish != nil {
		if err := opt.Finish(man); err != nil {
			return nil, nil, fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
	}
	st := &writeState{objectID: id, weights: map[string]float64{}, down: map[string]error{}}
	var held []*packFile
	failed := map[*packFile]bool{}
	defer func() {
		for _, f := range held {
			e.releasePack(f, failed[f])
		}
	}()
	var errs []error
	placed := false
	for ti, t := range pol.Tiers {
		var targets []string
		if t.Placement == "Mirror" {
			targets = t.Stores
		} else {
			for _, s := range t.Stores {
				if c, err := e.store(s).Capacity(ctx); err == nil {
					st.weights[s] = weight(c)
				}
			}
			targets = rank(t.Stores, st, 0)
		}
		for len(targets) > 0 && !placed {
			try := targets
			if t.Placement != "Mirror" {
				try, targets = targets[:1], targets[1:]
			} else {
				targets = nil
			}
			blocks, ferrs, err := e.appendRecords(ctx, man, ti, t, try, block, sum, &held, failed)
			if err != nil {
				return nil, nil, err
			}
			errs = append(errs, ferrs...)
			if len(blocks) == 0 {
				continue
			}
			man.Chunks[0].Tier, man.Chunks[0].Placement, man.Chunks[0].Blocks = ti, t.Placement, blocks
			man.Degraded = t.Placement == "Mirror" && len(blocks) < len(t.Stores)
			placed = true
		}
		if placed {
			break
		}
	}
	if !placed {
		return nil, nil, fmt.Errorf("put %s/%s: %w: %w", bucket, key, ErrNoStore, errors.Join(errs...))
	}
	// The records are written, not yet durable: the commit's group syncs
	// every pack its records went to, and commits only then.
	blocks := man.Chunks[0].Blocks
	sync := func() error {
		errs := make([]error, len(blocks))
		var wg sync.WaitGroup
		for i, b := range blocks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, _ := blockstore.AppenderOf(e.store(b.Store))
				errs[i] = a.SyncAppends(ctx, b.Key, b.Off+headerSize+int64(b.Size))
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	replaced, err := e.Meta.commitAfter(man, opt.Precondition, sync)
	if err != nil {
		e.killRecords(context.WithoutCancel(ctx), man.Chunks[0].Blocks)
		return nil, nil, fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	if replaced != nil {
		e.collectLater(context.WithoutCancel(ctx), replaced)
	}
	return man, nil, nil
}

// appendRecords appends the object's record (its manifest, then block) to
// a pack on each store of stores, at once, and returns the blocks placed
// and the stores' errors. The manifest in a record names every block with
// offset 0: each store's record tells only where its own block is (see
// scanPacks).
func (e *Engine) appendRecords(ctx context.Context, man *Manifest, ti int, t Tier, stores []string, block []byte, sum uint32, held *[]*packFile, failed map[*packFile]bool) ([]Block, []error, error) {
	files := make([]*packFile, len(stores))
	blocks := make([]Block, len(stores))
	for i, s := range stores {
		blocks[i] = Block{Store: s, Extent: true, Pack: true, Shard: -1, Size: len(block) - headerSize, CRC: sum}
	}
	for i, s := range stores {
		// The manifest names the packs, so it is encoded once they are
		// taken: a pack is taken for the block and room for a manifest.
		f, err := e.acquirePack(s, len(block)+4096)
		if err != nil {
			return nil, nil, err
		}
		files[i] = f
		*held = append(*held, f)
		blocks[i].Key = f.key
	}
	man.Chunks[0].Tier, man.Chunks[0].Placement, man.Chunks[0].Blocks = ti, t.Placement, blocks
	raw, err := EncodeManifest(man)
	if err != nil {
		return nil, nil, err
	}
	rec := make([]byte, headerSize+len(raw), headerSize+len(raw)+len(block))
	copy(rec[headerSize:], raw)
	sealBlock(rec, kindManifest)
	dataAt := int64(len(rec))
	rec = append(rec, block...)
	offs := make([]int64, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _ := blockstore.AppenderOf(e.store(s))
			offs[i], errs[i] = a.AppendLater(ctx, files[i].key, rec)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var out []Block
	var ferrs []error
	for i := range stores {
		if errs[i] != nil {
			failed[files[i]] = true
			ferrs = append(ferrs, errs[i])
			continue
		}
		b := blocks[i]
		b.Off = offs[i] + dataAt
		out = append(out, b)
	}
	return out, ferrs, nil
}

// dropPacks deletes the packs of refs (store\x00key) whose count is zero
// and that no process appends to any more, and their counts.
func (e *Engine) dropPacks(ctx context.Context, refs []string) {
	for _, r := range refs {
		store, key, _ := strings.Cut(r, "\x00")
		s := e.store(store)
		if s == nil || e.packInUse(store, key, true) {
			continue
		}
		var n int64 = -1
		_ = e.Meta.view(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bucketPacks); b != nil {
				if v := b.Get([]byte(r)); len(v) == 8 {
					n = int64(binary.BigEndian.Uint64(v))
				}
			}
			return nil
		})
		if n != 0 {
			continue
		}
		// The metadata is shared by every namespace's engine: a count for
		// a pack that is not on this engine's store of that name is
		// another engine's to drop.
		if xs, ok := blockstore.ExtentsOf(s); !ok {
			continue
		} else if r, err := xs.OpenExtent(ctx, key); err != nil {
			continue
		} else {
			r.Close()
		}
		if err := s.Delete(ctx, key); err != nil {
			continue // the store is down: the count stays at zero for later
		}
		_ = e.Meta.update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketPacks)
			if b == nil {
				return nil
			}
			if v := b.Get([]byte(r)); len(v) == 8 && binary.BigEndian.Uint64(v) == 0 {
				return b.Delete([]byte(r))
			}
			return nil
		})
	}
}

// sweepPacks drops every pack whose count is zero (CollectGarbage).
func (e *Engine) sweepPacks(ctx context.Context) error {
	var zero []string
	err := e.Meta.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPacks)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) == 8 && binary.BigEndian.Uint64(v) == 0 {
				zero = append(zero, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	e.dropPacks(ctx, zero)
	return ctx.Err()
}

// scanPacks reads the records of every pack on a store and adds the
// bucket's objects to into: a version first seen here is taken with its
// block on this store at the record's offset; a version already found on
// another store gets this store's block's offset. Reading a pack stops at
// the first record that does not check out: what follows it was never
// acknowledged (blockstore.Appender).
func (e *Engine) scanPacks(ctx context.Context, store, bucket string, into map[string]*Manifest, rep *RecoverReport) error {
	s := e.store(store)
	xs, ok := blockstore.ExtentsOf(s)
	if _, ok2 := blockstore.AppenderOf(s); !ok || !ok2 {
		return nil
	}
	var keys []string
	_ = s.List(ctx, "packs/", func(k string) error { keys = append(keys, k); return nil })
	for _, key := range keys {
		r, err := xs.OpenExtent(ctx, key)
		if err != nil {
			continue
		}
		var off int64
		for {
			man, dataOff, next, err := readRecord(ctx, r, off)
			if errors.Is(err, errDeadRecord) {
				off = next
				continue
			}
			if err != nil {
				break
			}
			off = next
			rep.Scanned++
			if man.Bucket != bucket {
				continue
			}
			if !placeRecord(man, store, key, dataOff) {
				rep.Skipped++
				continue
			}
			if cur := into[man.ObjectID]; cur != nil {
				placeRecord(cur, store, key, dataOff)
				continue
			}
			into[man.ObjectID] = man
		}
		r.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// placeRecord gives the manifest's block in pack key on store (its
// offset unknown until then, see appendRecords) the offset off of its
// data block, and reports whether the manifest has such a block.
func placeRecord(m *Manifest, store, key string, off int64) bool {
	found := false
	for i := range m.Chunks {
		for j := range m.Chunks[i].Blocks {
			if b := &m.Chunks[i].Blocks[j]; b.Store == store && b.Pack && b.Key == key {
				if b.Off == 0 {
					b.Off = off
				}
				found = true
			}
		}
	}
	return found
}

// readRecord reads the record at off: its manifest, where its data block
// starts and where the next record does. The data block is checked too.
func readRecord(ctx context.Context, r blockstore.ExtentReader, off int64) (*Manifest, int64, int64, error) {
	block := func(at int64, kind byte) ([]byte, int64, error) {
		h, err := r.ReadAt(ctx, at, headerSize, nil)
		if err != nil {
			return nil, 0, err
		}
		n := int64(binary.BigEndian.Uint32(h[8:12]))
		if n > MaxChunkSize {
			return nil, 0, fmt.Errorf("%w: record of %d bytes", ErrBadBlock, n)
		}
		raw, err := r.ReadAt(ctx, at, int(headerSize+n), nil)
		if err != nil {
			return nil, 0, err
		}
		payload, err := openBlock(raw, kind)
		return payload, at + headerSize + n, err
	}
	raw, dataOff, err := block(off, kindManifest)
	if err != nil {
		return nil, 0, 0, err
	}
	man, err := DecodeManifest(raw)
	if err != nil {
		return nil, 0, 0, err
	}
	_, next, err := block(dataOff, kindData)
	if err != nil {
		if h, herr := r.ReadAt(ctx, dataOff, headerSize, nil); herr == nil && [4]byte(h[0:4]) == magic && h[kindOffset] == kindDead {
			return nil, dataOff, dataOff + headerSize + int64(binary.BigEndian.Uint32(h[8:12])), errDeadRecord
		}
		return nil, 0, 0, err
	}
	return man, dataOff, next, nil
}

// errDeadRecord: the record's object was collected (killRecords).
var errDeadRecord = errors.New("dead record")

// killRecords marks the pack records of blocks dead, so that Recover
// never brings their objects back: one Overwrite (one sync) per pack. It
// returns the packs (store, key) that could not be marked: what a down
// store holds stays on the garbage list.
func (e *Engine) killRecords(ctx context.Context, blocks []Block) map[[2]string]bool {
	patches := map[[2]string][]blockstore.Patch{}
	dead := []byte{kindDead}
	for _, b := range blocks {
		if b.Pack {
			id := [2]string{b.Store, b.Key}
			patches[id] = append(patches[id], blockstore.Patch{Off: b.Off + kindOffset, Data: dead})
		}
	}
	failed := map[[2]string]bool{}
	for id, p := range patches {
		a, ok := blockstore.AppenderOf(e.store(id[0]))
		if !ok {
			failed[id] = true
			continue
		}
		if err := a.Overwrite(ctx, id[1], p); err != nil && !blockstore.IsNotFound(err) {
			failed[id] = true
		}
	}
	return failed
}

// completePacked drops from versions the pack blocks whose store did not
// report where they are (Recover: that store's record is lost), and the
// versions left with a chunk without blocks.
func completePacked(versions map[string]*Manifest) {
	for id, man := range versions {
		for i := range man.Chunks {
			c := &man.Chunks[i]
			kept := c.Blocks[:0]
			for _, b := range c.Blocks {
				if b.Pack && b.Off == 0 {
					man.Degraded = true
					continue
				}
				kept = append(kept, b)
			}
			c.Blocks = kept
			if len(c.Blocks) == 0 {
				delete(versions, id)
				break
			}
		}
	}
}

// CompactReport says what CompactPacks did.
type CompactReport struct {
	// Packs counts the packs found mostly dead and not appended to any
	// more; Moved the objects written out of them, Skipped those replaced
	// or deleted meanwhile.
	Packs      int      `json:"packs"`
	Moved      int      `json:"moved"`
	Skipped    int      `json:"skipped"`
	Unreadable []string `json:"unreadable,omitempty"`
}

// listPacked returns the current manifests that have a block in a pack,
// decoding only those (gc runs it for every bucket).
func (m *Meta) listPacked() ([]*Manifest, error) {
	mark := []byte(`"pack":true`)
	return m.decodeAll(bucketObjects, func(raw []byte) bool { return bytes.Contains(raw, mark) })
}

// recordSize is about what a version's record takes in a pack.
func recordSize(m *Manifest) int64 { return 2*headerSize + m.Size + 768 }

// CompactPacks moves bucket's objects ("" for every bucket) out of the
// packs whose live records take less than a quarter of a pack and that no
// process appends to any more, so that such packs go once their last
// version is collected: the space of dead records otherwise comes back
// only when a pack's last live record goes. Each object is written again
// as a new version of its key (same bytes, attributes and Last-Modified),
// committed only if it did not change meanwhile, as Rebalance does.
func (e *Engine) CompactPacks(ctx context.Context, bucket string, opt RepairOptions) (CompactReport, error) {
	var rep CompactReport
	list, err := e.Meta.listPacked()
	if err != nil {
		return rep, err
	}
	live := map[string]int64{}
	users := map[string][]*Manifest{}
	for _, man := range list {
		for _, r := range packRefs(man) {
			live[r] += recordSize(man)
			if bucket == "" || man.Bucket == bucket {
				users[r] = append(users[r], man)
			}
		}
	}
	limit := e.packSize() / 4
	moved := map[string]bool{}
	for r, n := range live {
		store, key, _ := strings.Cut(r, "\x00")
		if n >= limit || len(users[r]) == 0 || e.packInUse(store, key, false) {
			continue
		}
		rep.Packs++
		for _, man := range users[r] {
			if moved[man.ObjectID] {
				continue
			}
			moved[man.ObjectID] = true
			if opt.Pause != nil {
				if err := opt.Pause(ctx); err != nil {
					return rep, err
				}
			}
			if opt.Throttle != nil {
				if err := opt.Throttle(ctx, int(man.Size)); err != nil {
					return rep, err
				}
			}
			if err := tally(ctx, e.replace(ctx, man, Policy{Tiers: man.Tiers}), man.Bucket+"/"+man.Key, &rep.Moved, &rep.Skipped, &rep.Unreadable); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}
