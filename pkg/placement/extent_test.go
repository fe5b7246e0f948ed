package placement

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/dir"
	"github.com/nbctl/nb/pkg/blockstore/faulty"
)

// blockKeys lists what a store holds under blocks/.
func (r *rig) blockKeys(t *testing.T, store string) []string {
	t.Helper()
	var keys []string
	if err := r.mems[store].List(context.Background(), "blocks/", func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func TestExtentsHoldAnObjectsBlocksInSlots(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	man := r.put(t, "k", mirror("s0", "s1"), data(450, 1))
	slot := r.eng.slotSize(man.Tiers[0])
	if slot != 4096 {
		t.Fatalf("slot of a 100-byte chunk: %d, want 4096", slot)
	}
	for i, c := range man.Chunks {
		for _, b := range c.Blocks {
			if !b.Extent || b.Key != extentKey(man.ObjectID, 0) || b.Off != int64(i)*slot {
				t.Fatalf("chunk %d block %+v: want slot %d of %s", i, b, i, extentKey(man.ObjectID, 0))
			}
		}
	}
	for _, s := range []string{"s0", "s1"} {
		if got := r.blockKeys(t, s); len(got) != 1 || got[0] != extentKey(man.ObjectID, 0) {
			t.Errorf("%s holds %v, want the one extent", s, got)
		}
	}
}

// A mirror whose extent fails to commit leaves the object degraded, on
// the other mirror only, with nothing left behind; heal copies it back.
func TestExtentCommitFailureDegradesAndHealRestores(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	r.faults["s1"].Set(faulty.Faults{FailCommit: true})
	want := data(450, 2)
	man := r.put(t, "k", mirror("s0", "s1"), want)
	if !man.Degraded {
		t.Fatal("object not marked degraded")
	}
	for i, c := range man.Chunks {
		if len(c.Blocks) != 1 || c.Blocks[0].Store != "s0" {
			t.Fatalf("chunk %d: %+v, want s0's copy only", i, c.Blocks)
		}
	}
	if got := r.blockKeys(t, "s1"); len(got) != 0 {
		t.Fatalf("s1 holds %v after a failed commit", got)
	}
	r.faults["s1"].Set(faulty.Faults{})
	rep, err := r.eng.Heal(context.Background(), "")
	if err != nil || len(rep.Healed) != 1 || rep.Repaired != len(man.Chunks) {
		t.Fatalf("heal: %+v, %v", rep, err)
	}
	r.offline("s0")
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read from s1's healed copies: %v", err)
	}
}

// With every extent failing to commit, the Put fails, the old version
// stays, and the new version leaves nothing behind.
func TestExtentCommitFailureEverywhereFailsThePut(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	old := data(300, 3)
	r.put(t, "k", mirror("s0", "s1"), old)
	before := [2][]string{r.blockKeys(t, "s0"), r.blockKeys(t, "s1")}
	for _, s := range []string{"s0", "s1"} {
		r.faults[s].Set(faulty.Faults{FailCommit: true})
	}
	if _, err := r.eng.Put(context.Background(), "bkt", "k", mirror("s0", "s1"), bytes.NewReader(data(500, 4))); !errors.Is(err, ErrNoStore) {
		t.Fatalf("want ErrNoStore, got %v", err)
	}
	r.offline()
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("old version: %v", err)
	}
	after := [2][]string{r.blockKeys(t, "s0"), r.blockKeys(t, "s1")}
	if len(after[0]) != len(before[0]) || len(after[1]) != len(before[1]) {
		t.Errorf("blocks before %v, after %v: the failed put left some", before, after)
	}
}

// Scrub re-creates bad blocks of an extent as blocks of their own; the
// extent, then referenced by no chunk, still goes when the object does.
func TestScrubMovesBadBlocksOutOfAnExtentAndDeleteCollectsIt(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	want := data(300, 5)
	man := r.put(t, "k", mirror("s0", "s1"), want)
	for _, c := range man.Chunks {
		for _, b := range c.Blocks {
			if b.Store == "s0" && !r.corrupt(b) {
				t.Fatal("nothing to corrupt")
			}
		}
	}
	rep, err := r.eng.Scrub(context.Background(), "")
	if err != nil || rep.Repaired != len(man.Chunks) {
		t.Fatalf("scrub: %+v, %v", rep, err)
	}
	now, err := r.eng.Stat("bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range now.Chunks {
		for _, b := range c.Blocks {
			if b.Store == "s0" && b.Extent {
				t.Fatalf("chunk %d: s0's copy still in the extent after repair", i)
			}
		}
	}
	r.offline("s1")
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read of s0's repaired copies: %v", err)
	}
	r.offline()
	if err := r.eng.Delete(context.Background(), "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"s0", "s1"} {
		if got := r.blockKeys(t, s); len(got) != 0 {
			t.Errorf("%s still holds %v", s, got)
		}
	}
}

// plainStore hides a store's extents: the engine gives it a key per block.
type plainStore struct{ blockstore.Store }

func TestMirrorOverStoresWithAndWithoutExtents(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	r.eng.Stores["s1"] = plainStore{r.faults["s1"]}
	want := data(250, 6)
	man := r.put(t, "k", mirror("s0", "s1"), want)
	for i, c := range man.Chunks {
		for _, b := range c.Blocks {
			if b.Extent != (b.Store == "s0") {
				t.Fatalf("chunk %d block %+v: only s0 holds extents", i, b)
			}
		}
	}
	for _, down := range []string{"s0", "s1"} {
		r.offline(down)
		if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read with %s down: %v", down, err)
		}
	}
}

// dirEngine is an engine with 1 MiB chunks on real dir stores of one
// volume each, in a temporary folder (returned).
func dirEngine(t *testing.T, names ...string) (*Engine, string) {
	t.Helper()
	root := t.TempDir()
	meta, err := OpenMeta(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]blockstore.Store{}
	for _, n := range names {
		s, err := dir.Open(n, filepath.Join(root, n), 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		stores[n] = s
	}
	return &Engine{Stores: stores, Meta: meta, ChunkSize: 1 << 20}, root
}

// An uncached read (from the devices, around the page cache) returns the
// object, and still checks every block: a block damaged on disk is read
// from the other mirror.
func TestUncachedReadChecksBlocks(t *testing.T) {
	ctx := context.Background()
	eng, root := dirEngine(t, "d0", "d1")
	want := data(3<<20+777, 5)
	man, err := eng.Put(ctx, "bkt", "k", mirror("d0", "d1"), bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if st, err := eng.ReadManifestUncached(ctx, man, &got); err != nil || !bytes.Equal(got.Bytes(), want) || st.BadBlocks != 0 {
		t.Fatalf("uncached read: %v, %d bad blocks, equal %v", err, st.BadBlocks, bytes.Equal(got.Bytes(), want))
	}
	// Damage the copy the read takes first, in its second chunk.
	b := man.Chunks[1].Blocks[firstCopy(man, 1)]
	parts, _ := filepath.Glob(filepath.Join(root, b.Store, "vol-*", "blocks", "*", "*", "x0~x"))
	if len(parts) != 1 {
		t.Fatalf("extent parts of %s: %v", b.Store, parts)
	}
	f, err := os.OpenFile(parts[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0x00, 0xff}, b.Off+headerSize+1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got.Reset()
	if st, err := eng.ReadManifestUncached(ctx, man, &got); err != nil || !bytes.Equal(got.Bytes(), want) || st.BadBlocks != 1 {
		t.Fatalf("uncached read of a damaged copy: %v, %d bad blocks, equal %v", err, st.BadBlocks, bytes.Equal(got.Bytes(), want))
	}
}

// A copy is written with its padding, as zeros, up to the next slot: the
// bytes between blocks are never another object's (the buffers are
// recycled).
func TestExtentPaddingIsZeros(t *testing.T) {
	ctx := context.Background()
	eng, root := dirEngine(t, "d0")
	pol := Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"d0"}}}}
	// A first object fills the recycled buffers with non-zero bytes.
	if _, err := eng.Put(ctx, "bkt", "a", pol, bytes.NewReader(bytes.Repeat([]byte{0xee}, 4<<20))); err != nil {
		t.Fatal(err)
	}
	want := data(2<<20+777, 6)
	man, err := eng.Put(ctx, "bkt", "b", pol, bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := filepath.Glob(filepath.Join(root, "d0", "vol-*", "blocks", man.ObjectID[:2], man.ObjectID, "x0~x"))
	if len(parts) != 1 {
		t.Fatalf("parts: %v", parts)
	}
	raw, err := os.ReadFile(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range man.Chunks {
		b := c.Blocks[0]
		end := b.Off + headerSize + int64(b.Size)
		// Up to the next slot, or to the end of the part (the last
		// block's tail is padded to the filesystem's alignment).
		next := min((end+blockstore.ExtentAlign-1)/blockstore.ExtentAlign*blockstore.ExtentAlign, int64(len(raw)))
		if end > int64(len(raw)) {
			t.Fatalf("the part is %d bytes, the block at %d ends at %d", len(raw), b.Off, end)
		}
		for _, x := range raw[end:next] {
			if x != 0 {
				t.Fatalf("padding after the block at %d holds %#x", b.Off, x)
			}
		}
	}
	var got bytes.Buffer
	if _, _, err := eng.Get(ctx, "bkt", "b", &got); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read back: %v", err)
	}
}
