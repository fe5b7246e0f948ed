package placement

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/dir"
)

// putSmall puts b as bucket bkt's key with its length announced, as an
// S3 PUT does (so that it goes to packs).
func (r *rig) putSmall(t testing.TB, key string, pol Policy, b []byte) *Manifest {
	t.Helper()
	n := int64(len(b))
	man, err := r.eng.PutWith(context.Background(), "bkt", key, pol, bytes.NewReader(b), PutOptions{Length: &n})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return man
}

// packs lists the packs on a store.
func (r *rig) packs(t testing.TB, store string) []string {
	t.Helper()
	var out []string
	if err := r.mems[store].List(context.Background(), "packs/", func(k string) error { out = append(out, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func packCount(t testing.TB, m *Meta, store, key string) int64 {
	t.Helper()
	n := int64(-1)
	if err := m.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketPacks); b != nil {
			if v := b.Get([]byte(store + "\x00" + key)); len(v) == 8 {
				n = int64(binary.BigEndian.Uint64(v))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSmallObjectsShareAPackPerStore(t *testing.T) {
	r := newRig(t, 3, 0, 1<<20)
	want := map[string][]byte{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, v := fmt.Sprintf("k%02d", i), data(1+i*97, uint64(i))
			r.putSmall(t, k, mirror("s0", "s1"), v)
			mu.Lock()
			want[k] = v
			mu.Unlock()
		}()
	}
	wg.Wait()
	for k, v := range want {
		man, err := r.eng.Stat("bkt", k)
		if err != nil {
			t.Fatal(err)
		}
		if len(man.Chunks) != 1 || len(man.Chunks[0].Blocks) != 2 || !man.Chunks[0].Blocks[0].Pack || man.Degraded {
			t.Fatalf("%s: manifest %+v", k, man.Chunks)
		}
		if got, _, err := r.get(k); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("%s read back: %v", k, err)
		}
	}
	for _, s := range []string{"s0", "s1"} {
		if p := r.packs(t, s); len(p) != 1 {
			t.Errorf("%s holds packs %v, want one", s, p)
		}
		var files []string
		r.mems[s].List(context.Background(), "", func(k string) error { files = append(files, k); return nil })
		if len(files) != 1 {
			t.Errorf("%s holds %v: a small object leaves nothing but its record", s, files)
		}
	}
	if p := r.packs(t, "s2"); len(p) != 0 {
		t.Errorf("s2 is not in the policy but holds %v", p)
	}
	// An object larger than a chunk, or of unknown length, is streamed.
	big := data(2<<20, 7)
	if man := r.putSmall(t, "big", mirror("s0", "s1"), big); man.Chunks[0].Blocks[0].Pack {
		t.Error("a 2 MiB object went to a pack")
	}
	if man := r.put(t, "unknown", mirror("s0", "s1"), data(10, 1)); man.Chunks[0].Blocks[0].Pack {
		t.Error("an object of unknown length went to a pack")
	}
}

func TestPackCountsAndDeletion(t *testing.T) {
	r := newRig(t, 2, 0, 1<<20)
	r.eng.PackSize = 1 // every object gets a pack of its own: each is retired at once
	ctx := context.Background()
	first := r.putSmall(t, "a", mirror("s0", "s1"), data(100, 1))
	key := first.Chunks[0].Blocks[0].Key
	if n := packCount(t, r.eng.Meta, "s0", key); n != 1 {
		t.Fatalf("count after the put: %d", n)
	}
	r.putSmall(t, "a", mirror("s0", "s1"), data(200, 2)) // replaces a: the first version's pack is retired
	r.putSmall(t, "b", mirror("s0", "s1"), data(300, 3))
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s0", "s1"} {
		for _, p := range r.packs(t, s) {
			if p == key {
				t.Errorf("%s still holds the pack of the replaced version", s)
			}
		}
	}
	if n := packCount(t, r.eng.Meta, "s0", key); n != -1 {
		t.Errorf("the dropped pack's count is still recorded (%d)", n)
	}
	if err := r.eng.Delete(ctx, "bkt", "b"); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	// The current pack (b's, the last one) went too: at a count of zero
	// with no append under way it is retired, and the next record starts
	// a new pack.
	if got, _, err := r.get("a"); err != nil || !bytes.Equal(got, data(200, 2)) {
		t.Fatalf("a after the collections: %v", err)
	}
	if p := r.packs(t, "s0"); len(p) != 1 {
		t.Errorf("s0 holds %v, want a's pack only", p)
	}
	if man := r.putSmall(t, "c", mirror("s0", "s1"), data(50, 5)); len(r.packs(t, "s0")) != 2 || man.Chunks[0].Blocks[0].Key == key {
		t.Errorf("a record after the current pack went: packs %v", r.packs(t, "s0"))
	}
}

func TestPackRecordSurvivesAStoreDownAndHeals(t *testing.T) {
	r := newRig(t, 2, 0, 1<<20)
	ctx := context.Background()
	r.offline("s1")
	man := r.putSmall(t, "k", mirror("s0", "s1"), data(500, 4))
	if !man.Degraded || len(man.Chunks[0].Blocks) != 1 {
		t.Fatalf("with s1 down: degraded %v, blocks %+v", man.Degraded, man.Chunks[0].Blocks)
	}
	r.offline()
	rep, err := r.eng.Heal(ctx, "bkt")
	if err != nil || len(rep.Healed) != 1 {
		t.Fatalf("heal: %+v %v", rep, err)
	}
	// A copy on each store; then lose s0's by corruption: reads go on.
	healed, _ := r.eng.Stat("bkt", "k")
	for _, b := range healed.Chunks[0].Blocks {
		if b.Store == "s0" && !r.corrupt(b) {
			t.Fatal("corrupt s0's record")
		}
	}
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, data(500, 4)) {
		t.Fatalf("read with s0's copy corrupt: %v", err)
	}
	// Deleting the healed object removes the copy heal wrote (a block and
	// a manifest copy on s1); the record on s0 is marked dead.
	if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	var left []string
	r.mems["s1"].List(ctx, "", func(k string) error { left = append(left, k); return nil })
	if len(left) != 0 {
		t.Errorf("s1 keeps %v after the delete", left)
	}
}

func TestRecoverReadsPacksAndNeverRevivesTheDead(t *testing.T) {
	r := newRig(t, 3, 0, 1<<20)
	ctx := context.Background()
	want := map[string][]byte{"a": data(250, 13), "b/c": data(10, 14), "empty": nil}
	for k, v := range want {
		r.putSmall(t, k, mirror("s0", "s1"), v)
	}
	r.putSmall(t, "a", mirror("s0", "s1"), want["a"]) // a newer version of a
	r.putSmall(t, "gone", mirror("s0", "s1"), data(30, 15))
	if err := r.eng.Delete(ctx, "bkt", "gone"); err != nil {
		t.Fatal(err)
	}
	r.putSmall(t, "spread", spread("s1", "s2"), data(40, 16))
	want["spread"] = data(40, 16)
	meta, err := OpenMeta(filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	r.eng.Meta = meta
	rep, err := r.eng.Recover(ctx, "bkt")
	if err != nil || rep.Restored != 4 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	for k, v := range want {
		man, err := r.eng.Stat("bkt", k)
		if err != nil {
			t.Fatalf("%s after recovery: %v", k, err)
		}
		if k != "spread" && k != "empty" && len(man.Chunks[0].Blocks) != 2 {
			t.Errorf("%s recovered with blocks %+v, want both copies", k, man.Chunks[0].Blocks)
		}
		if got, _, err := r.get(k); err != nil || !bytes.Equal(got, v) {
			t.Errorf("%s read after recovery: %v", k, err)
		}
	}
	if _, err := r.eng.Stat("bkt", "gone"); !errors.Is(err, ErrNoObject) {
		t.Errorf("a deleted object came back: %v", err)
	}
}

// A record torn by a crash ends a pack's scan; the records before it are
// recovered.
func TestRecoverStopsAtATornRecord(t *testing.T) {
	root := t.TempDir()
	s0, err := dir.Open("s0", filepath.Join(root, "s0"), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := OpenMeta(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	eng := &Engine{Stores: map[string]blockstore.Store{"s0": s0}, Meta: meta}
	ctx := context.Background()
	put := func(key string, b []byte) *Manifest {
		n := int64(len(b))
		man, err := eng.PutWith(ctx, "bkt", key, mirror("s0"), bytes.NewReader(b), PutOptions{Length: &n})
		if err != nil {
			t.Fatal(err)
		}
		return man
	}
	put("one", data(1000, 1))
	last := put("two", data(1000, 2))
	b := last.Chunks[0].Blocks[0]
	// Tear the second record: its data block's last bytes never made it.
	a, _ := blockstore.AppenderOf(s0)
	if err := a.Overwrite(ctx, b.Key, []blockstore.Patch{{Off: b.Off + headerSize + int64(b.Size) - 8, Data: make([]byte, 8)}}); err != nil {
		t.Fatal(err)
	}
	fresh, err := OpenMeta(filepath.Join(root, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	eng.Meta = fresh
	rep, err := eng.Recover(ctx, "bkt")
	if err != nil || rep.Restored != 1 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	var out bytes.Buffer
	if _, _, err := eng.Get(ctx, "bkt", "one", &out); err != nil || !bytes.Equal(out.Bytes(), data(1000, 1)) {
		t.Fatalf("one after recovery: %v", err)
	}
	if _, err := eng.Stat("bkt", "two"); !errors.Is(err, ErrNoObject) {
		t.Errorf("the torn object was recovered: %v", err)
	}
}

// Packs on real folders: many concurrent small PUTs on a Mirror of two
// dir stores, read back after the stores are opened again.
func TestSmallObjectsOnDirStores(t *testing.T) {
	root := t.TempDir()
	open := func() map[string]blockstore.Store {
		out := map[string]blockstore.Store{}
		for _, n := range []string{"pv1", "pv2"} {
			s, err := dir.Open(n, filepath.Join(root, n), 2, 0)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = s
		}
		return out
	}
	meta, err := OpenMeta(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	eng := &Engine{Stores: open(), Meta: meta}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := data(4096, uint64(i))
			n := int64(len(b))
			if _, err := eng.PutWith(ctx, "bkt", fmt.Sprintf("k%d", i), mirror("pv1", "pv2"), bytes.NewReader(b), PutOptions{Length: &n}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	eng2 := &Engine{Stores: open(), Meta: meta}
	for i := 0; i < 64; i++ {
		var out bytes.Buffer
		if _, _, err := eng2.Get(ctx, "bkt", fmt.Sprintf("k%d", i), &out); err != nil || !bytes.Equal(out.Bytes(), data(4096, uint64(i))) {
			t.Fatalf("k%d: %v", i, err)
		}
	}
	// One pack file per store, nothing else under blocks/ or manifests/.
	for _, n := range []string{"pv1", "pv2"} {
		var keys []string
		eng2.Stores[n].List(ctx, "", func(k string) error { keys = append(keys, k); return nil })
		if len(keys) != 1 || !strings.HasPrefix(keys[0], "packs/") {
			t.Errorf("%s holds %v", n, keys)
		}
	}
}

// A pack left with a few live records among dead ones is compacted: its
// objects are written again (same bytes and Last-Modified) and the pack
// goes.
func TestCompactPacksMovesTheLastLiveRecords(t *testing.T) {
	r := newRig(t, 1, 0, 1<<20)
	r.eng.PackSize = 64 << 10 // about a dozen records of 1000 bytes per pack
	ctx := context.Background()
	var first *Manifest
	for i := 0; i < 20; i++ {
		m := r.putSmall(t, fmt.Sprintf("k%02d", i), mirror("s0"), data(1000, uint64(i)))
		if i == 0 {
			first = m
		}
	}
	oldPack := first.Chunks[0].Blocks[0].Key
	for i := 1; i < 19; i++ {
		if err := r.eng.Delete(ctx, "bkt", fmt.Sprintf("k%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	has := func(key string) bool {
		for _, p := range r.packs(t, "s0") {
			if p == key {
				return true
			}
		}
		return false
	}
	if !has(oldPack) {
		t.Fatal("the first pack went while k00 lives in it")
	}
	rep, err := r.eng.CompactPacks(ctx, "", RepairOptions{})
	if err != nil || rep.Packs != 1 || rep.Moved != 1 {
		t.Fatalf("compact: %+v %v", rep, err)
	}
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if has(oldPack) {
		t.Error("the compacted pack is still there")
	}
	man, err := r.eng.Stat("bkt", "k00")
	if err != nil || !man.Created.Equal(first.Created) || man.ObjectID == first.ObjectID || !man.Chunks[0].Blocks[0].Pack {
		t.Fatalf("k00 after compaction: %+v %v", man, err)
	}
	if got, _, err := r.get("k00"); err != nil || !bytes.Equal(got, data(1000, 0)) {
		t.Fatalf("k00 read back: %v", err)
	}
	// Compacting again moves at most what the last pass left alone (k19's
	// pack, retired when k00's record filled it); the current pack is
	// never compacted, and everything reads back.
	if rep, err := r.eng.CompactPacks(ctx, "", RepairOptions{}); err != nil || rep.Moved > 1 {
		t.Errorf("second compaction: %+v %v", rep, err)
	}
	for _, k := range []int{0, 19} {
		if got, _, err := r.get(fmt.Sprintf("k%02d", k)); err != nil || !bytes.Equal(got, data(1000, uint64(k))) {
			t.Fatalf("k%02d after the second compaction: %v", k, err)
		}
	}
}

// Writers, deleters and collections at once: every object that is still
// there reads back, whatever packs were retired and dropped meanwhile.
func TestPacksUnderConcurrentPutsDeletesAndCollections(t *testing.T) {
	r := newRig(t, 2, 0, 1<<20)
	r.eng.PackSize = 16 << 10
	ctx := context.Background()
	stop := r.eng.StartCollector(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				k := fmt.Sprintf("w%d/%02d", w, i%15)
				b := data(500+i, uint64(w*1000+i))
				n := int64(len(b))
				if _, err := r.eng.PutWith(ctx, "bkt", k, mirror("s0", "s1"), bytes.NewReader(b), PutOptions{Length: &n}); err != nil {
					errs <- err
					return
				}
				if i%4 == 3 {
					if err := r.eng.Delete(ctx, "bkt", k); err != nil && !errors.Is(err, ErrNoObject) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			if err := r.eng.CollectGarbage(ctx); err != nil {
				errs <- err
				return
			}
			if _, err := r.eng.CompactPacks(ctx, "", RepairOptions{}); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	stop()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, err := r.eng.Meta.List("bkt")
	if err != nil || len(list) == 0 {
		t.Fatalf("list: %d objects, %v", len(list), err)
	}
	for _, man := range list {
		var out bytes.Buffer
		if _, _, err := r.eng.Get(ctx, "bkt", man.Key, &out); err != nil || int64(out.Len()) != man.Size {
			t.Fatalf("%s: %v", man.Key, err)
		}
	}
}

// A pack with an append under way is never dropped, even at a count of
// zero (its record is not committed yet); once the append is done, the
// idle pack is retired and dropped.
func TestAPackWithAnAppendUnderWayIsKept(t *testing.T) {
	r := newRig(t, 1, 0, 1<<20)
	ctx := context.Background()
	f, err := r.eng.acquirePack("s0", 100)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := blockstore.AppenderOf(r.eng.store("s0"))
	if _, err := a.AppendLater(ctx, f.key, []byte("a record not yet committed")); err != nil {
		t.Fatal(err)
	}
	ref := "s0\x00" + f.key
	if err := r.eng.Meta.update(func(tx *bolt.Tx) error { _, err := countRefs(tx, []string{ref}, 0); return err }); err != nil {
		t.Fatal(err)
	}
	r.eng.dropPacks(ctx, []string{ref})
	if p := r.packs(t, "s0"); len(p) != 1 {
		t.Fatalf("the pack went while an append was under way: %v", p)
	}
	if cur := r.eng.packs.cur["s0"]; cur != f {
		t.Fatal("the pack was retired while an append was under way")
	}
	r.eng.releasePack(f, false)
	r.eng.dropPacks(ctx, []string{ref})
	if p := r.packs(t, "s0"); len(p) != 0 {
		t.Errorf("the idle pack at a count of zero stays: %v", p)
	}
}
