package placement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/faulty"
	"github.com/nbctl/nb/pkg/blockstore/mem"
)

type rig struct {
	eng    *Engine
	mems   map[string]*mem.Store
	faults map[string]*faulty.Store
}

// newRig builds an engine over n faulty-wrapped memory stores s0..s(n-1)
// with the given capacity each (0: unbounded).
func newRig(t testing.TB, n int, capacity int64, chunk int) *rig {
	t.Helper()
	meta, err := OpenMeta(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	r := &rig{mems: map[string]*mem.Store{}, faults: map[string]*faulty.Store{}}
	stores := map[string]blockstore.Store{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%d", i)
		m := mem.New(name, capacity)
		f := faulty.New(m, uint64(i))
		r.mems[name], r.faults[name], stores[name] = m, f, f
	}
	r.eng = &Engine{Stores: stores, Meta: meta, ChunkSize: chunk, Parallelism: 3, VerifyObjectHash: true}
	return r
}

// corrupt flips a byte in the middle of block b's payload.
func (r *rig) corrupt(b Block) bool {
	return r.mems[b.Store].Corrupt(b.Key, b.Off+int64(headerSize+b.Size/2))
}

// limit replaces stores names with bare memory stores of capacity bytes.
func (r *rig) limit(capacity int64, names ...string) {
	for _, n := range names {
		r.mems[n] = mem.New(n, capacity)
		r.eng.Stores[n] = r.mems[n]
	}
}

// putOverTwoTiers puts want as "k" with pol, whose first tier must fill up:
// both tiers take chunks, and the object reads back.
func (r *rig) putOverTwoTiers(t *testing.T, pol Policy, want []byte) {
	t.Helper()
	man := r.put(t, "k", pol, want)
	tiers := map[int]int{}
	for _, c := range man.Chunks {
		tiers[c.Tier]++
	}
	if tiers[0] == 0 || tiers[1] == 0 {
		t.Fatalf("chunks per tier %v", tiers)
	}
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back: %v", err)
	}
}

func (r *rig) offline(names ...string) {
	for n, f := range r.faults {
		f.Set(faulty.Faults{Offline: contains(names, n)})
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func data(n int, seed uint64) []byte {
	rnd := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

func mirror(stores ...string) Policy {
	return Policy{Tiers: []Tier{{Placement: "Mirror", Stores: stores}}}
}
func spread(stores ...string) Policy {
	return Policy{Tiers: []Tier{{Placement: "Spread", Stores: stores}}}
}
func erasure(k, m int, stores ...string) Policy {
	return Policy{Tiers: []Tier{{Placement: "Spread", Stores: stores, DataShards: k, ParityShards: m}}}
}

func (r *rig) put(t testing.TB, key string, pol Policy, b []byte) *Manifest {
	t.Helper()
	man, err := r.eng.Put(context.Background(), "bkt", key, pol, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return man
}

func (r *rig) get(key string) ([]byte, ReadStats, error) {
	var out bytes.Buffer
	_, st, err := r.eng.Get(context.Background(), "bkt", key, &out)
	return out.Bytes(), st, err
}

func TestRoundTripAcrossPoliciesAndSizes(t *testing.T) {
	const chunk = 1024
	for _, pol := range []Policy{mirror("s0", "s1"), spread("s0", "s1", "s2"), erasure(2, 1, "s0", "s1", "s2"), erasure(4, 2, "s0", "s1", "s2", "s3", "s4", "s5"), spread("s0")} {
		for _, size := range []int{0, 1, chunk - 1, chunk, chunk + 1, 7*chunk + 13} {
			r := newRig(t, 6, 0, chunk)
			want := data(size, uint64(size))
			man := r.put(t, "k", pol, want)
			if man.Size != int64(size) || man.Degraded {
				t.Fatalf("%v size %d: manifest %+v", pol, size, man)
			}
			got, st, err := r.get("k")
			if err != nil || !bytes.Equal(got, want) || st.BadBlocks != 0 {
				t.Fatalf("%v size %d: err %v equal %v stats %+v", pol, size, err, bytes.Equal(got, want), st)
			}
		}
	}
}

func TestMirrorPutsEveryChunkOnEveryStore(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	man := r.put(t, "k", mirror("s0", "s1"), data(1000, 1))
	for _, h := range man.Holdings() {
		if len(h.Chunks) != 10 {
			t.Errorf("%s holds %v", h.Store, h.Chunks)
		}
	}
}

func TestSpreadIsDeterministicAndWeightedByFreeSpace(t *testing.T) {
	r := newRig(t, 3, 0, 100)
	// s0 is nearly full: it must get far fewer chunks.
	r.mems["s0"] = mem.New("s0", 1<<20)
	r.eng.Stores["s0"] = r.mems["s0"]
	if err := r.mems["s0"].Put(context.Background(), "filler", make([]byte, 1<<20-200*100)); err != nil {
		t.Fatal(err)
	}
	r.eng.Stores["s1"] = mem.New("s1", 1<<30)
	r.eng.Stores["s2"] = mem.New("s2", 1<<30)
	man := r.put(t, "k", spread("s0", "s1", "s2"), data(100*300, 2))
	count := map[string]int{}
	for _, h := range man.Holdings() {
		count[h.Store] = len(h.Chunks)
	}
	if count["s0"] > 10 || count["s1"] < 100 || count["s2"] < 100 {
		t.Errorf("chunks per store %v", count)
	}
	st := &writeState{objectID: man.ObjectID, weights: map[string]float64{"a": 1, "b": 1, "c": 1}}
	if fmt.Sprint(rank([]string{"a", "b", "c"}, st, 5)) != fmt.Sprint(rank([]string{"c", "b", "a"}, st, 5)) {
		t.Error("rank depends on the order stores are listed in")
	}
}

func TestMirrorWithAStoreDownIsDegradedThenHealed(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	want := data(950, 3)
	r.offline("s1")
	man := r.put(t, "k", mirror("s0", "s1"), want)
	if !man.Degraded {
		t.Fatal("a mirror write with a store down must be marked degraded")
	}
	if man.ReadableWithout(map[string]bool{"s0": true}) {
		t.Error("the degraded object cannot survive losing its only copy")
	}
	got, _, err := r.get("k")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read while degraded: %v", err)
	}
	// Healing while s1 is still down changes nothing.
	rep, err := r.eng.Heal(context.Background(), "bkt")
	if err != nil || rep.Missing != 10 || len(rep.Healed) != 0 {
		t.Fatalf("heal with s1 down: %+v %v", rep, err)
	}
	r.offline()
	rep, err = r.eng.Heal(context.Background(), "bkt")
	if err != nil || rep.Repaired != 10 || len(rep.Healed) != 1 {
		t.Fatalf("heal: %+v %v", rep, err)
	}
	man, _ = r.eng.Stat("bkt", "k")
	if man.Degraded || !man.ReadableWithout(map[string]bool{"s0": true}) {
		t.Fatalf("after heal: %+v", man)
	}
	r.offline("s0")
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read from the healed copy: %v", err)
	}
}

func TestCorruptBlockIsNeverReturnedAndScrubRepairsIt(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	want := data(500, 4)
	man := r.put(t, "k", mirror("s0", "s1"), want)
	// The copy the read tries first, so that the read meets it.
	bad := man.Chunks[2].Blocks[firstCopy(man, 2)]
	if !r.corrupt(bad) {
		t.Fatal("no block to corrupt")
	}
	other := "s0"
	if bad.Store == "s0" {
		other = "s1"
	}
	got, st, err := r.get("k")
	if err != nil || !bytes.Equal(got, want) || st.BadBlocks == 0 {
		t.Fatalf("read around a corrupt copy: err %v stats %+v", err, st)
	}
	rep, err := r.eng.Scrub(context.Background(), "")
	if err != nil || rep.Repaired != 1 || len(rep.Lost) != 0 {
		t.Fatalf("scrub: %+v %v", rep, err)
	}
	r.offline(other)
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s's repaired copy: %v", bad.Store, err)
	}
}

func TestCorruptSingleCopyFailsInsteadOfLying(t *testing.T) {
	r := newRig(t, 1, 0, 100)
	man := r.put(t, "k", spread("s0"), data(300, 5))
	r.corrupt(man.Chunks[1].Blocks[0])
	var out bytes.Buffer
	_, _, err := r.eng.Get(context.Background(), "bkt", "k", &out)
	if !errors.Is(err, ErrUnreadable) {
		t.Fatalf("want ErrUnreadable, got %v", err)
	}
	if out.Len() > 100 {
		t.Errorf("%d bytes written: nothing past the last good chunk may be", out.Len())
	}
	rep, err := r.eng.Scrub(context.Background(), "bkt")
	if err != nil || len(rep.Lost) != 1 {
		t.Errorf("scrub must report the loss: %+v %v", rep, err)
	}
}

func TestErasureSurvivesMLossesNotMore(t *testing.T) {
	stores := []string{"s0", "s1", "s2", "s3", "s4", "s5"}
	r := newRig(t, 6, 0, 256)
	want := data(256*9+5, 6)
	man := r.put(t, "k", erasure(4, 2, stores...), want)
	r.offline("s1", "s4")
	got, _, err := r.get("k")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("2 of 6 stores down: %v", err)
	}
	if !man.ReadableWithout(map[string]bool{"s1": true, "s4": true}) {
		t.Error("the manifest says a 4+2 object does not survive 2 losses")
	}
	r.offline("s1", "s4", "s5")
	if _, _, err := r.get("k"); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("3 of 6 stores down: want ErrUnreadable, got %v", err)
	}
}

func TestErasureWriteWithAStoreDownUsesASpareThenHeals(t *testing.T) {
	r := newRig(t, 4, 0, 300)
	want := data(3000, 7)
	r.offline("s2")
	man := r.put(t, "k", erasure(2, 1, "s0", "s1", "s2", "s3"), want)
	for _, c := range man.Chunks {
		for _, b := range c.Blocks {
			if b.Store == "s2" {
				t.Fatal("a shard was placed on a down store")
			}
		}
		if len(c.Blocks) != 3 {
			t.Fatalf("a spare store should take the shard: %d blocks", len(c.Blocks))
		}
	}
	if man.Degraded {
		t.Error("with a spare store every shard was placed: not degraded")
	}
	r.offline()
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
		t.Fatal(err)
	}
}

func TestSecondTierTakesWhatTheFirstCannot(t *testing.T) {
	r := newRig(t, 4, 0, 100)
	r.limit(450, "s0", "s1")
	pol := Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"s0", "s1"}}, {Placement: "Spread", Stores: []string{"s2", "s3"}}}}
	r.putOverTwoTiers(t, pol, data(1000, 8))
}

// A chunk read as erasure-coded shards (the first tier's layout) that a
// full first tier sends on to a second tier of another kind, or of
// another k, arrives there whole; chunk sizes that k does not divide and
// a short last chunk included.
func TestErasureCodedFirstTierFallsBack(t *testing.T) {
	ec := func(k, m int, stores ...string) Tier {
		return Tier{Placement: "Spread", Stores: stores, DataShards: k, ParityShards: m}
	}
	for name, second := range map[string]Tier{
		"mirror":  {Placement: "Mirror", Stores: []string{"s4", "s5"}},
		"spread":  {Placement: "Spread", Stores: []string{"s4", "s5"}},
		"ec 2+1":  ec(2, 1, "s4", "s5", "s6"),
		"ec 3+2":  ec(3, 2, "s4", "s5", "s6", "s7", "s8"),
		"ec same": ec(3, 1, "s4", "s5", "s6", "s7"),
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, 9, 0, 101)
			r.limit(200, "s0", "s1", "s2", "s3")
			pol := Policy{Tiers: []Tier{ec(3, 1, "s0", "s1", "s2", "s3"), second}}
			want := data(101*9+40, 21)
			r.putOverTwoTiers(t, pol, want)
			// Rebuilt from parity, each data shard must still be the
			// right piece of its chunk.
			down := []string{"s0"}
			if second.Placement == "Mirror" || second.ParityShards > 0 {
				down = append(down, "s4")
			}
			r.offline(down...)
			if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read back without %v: %v", down, err)
			}
		})
	}
}

// The zeros that pad a chunk's last data shard are zeros, not what an
// earlier chunk or object left in the recycled buffers (a block never
// carries bytes of other data), whether the data shards are the chunk's
// own buffer or copies.
func TestErasurePaddingIsZero(t *testing.T) {
	e := &Engine{}
	dirty := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = 0xa5
		}
		return b
	}
	const n = 101 // 3+1: shards of 34 bytes, the last holding 33
	want := data(n, 9)
	for _, inPlace := range []bool{false, true} {
		for range 8 {
			e.putShardBufs([][]byte{dirty(headerSize + 34)})
		}
		var regions [][]byte
		if inPlace {
			for i := range 3 {
				d := dirty(headerSize + 34)
				copy(d[headerSize:], want[i*34:min((i+1)*34, n)])
				regions = append(regions, d)
			}
		}
		blocks, pooled, _, sum, err := e.encodeShards(3, 1, want, regions, n)
		if err != nil {
			t.Fatal(err)
		}
		if sum != crc(want) {
			t.Errorf("in place %v: chunk CRC %08x, want %08x", inPlace, sum, crc(want))
		}
		var got []byte
		for i, b := range blocks {
			payload, err := openBlock(b, kindData)
			if err != nil {
				t.Fatalf("in place %v, shard %d: %v", inPlace, i, err)
			}
			if i < 3 {
				got = append(got, payload...)
			}
		}
		if !bytes.Equal(got[:n], want) || !bytes.Equal(got[n:], []byte{0}) {
			t.Errorf("in place %v: data shards end to end are %x, want the payload and one zero", inPlace, got)
		}
		e.putShardBufs(pooled)
	}
}

func TestEveryStoreDownFailsThePutAndKeepsTheOldVersion(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	old := data(300, 9)
	r.put(t, "k", mirror("s0", "s1"), old)
	r.offline("s0", "s1")
	if _, err := r.eng.Put(context.Background(), "bkt", "k", mirror("s0", "s1"), bytes.NewReader(data(300, 10))); !errors.Is(err, ErrNoStore) {
		t.Fatalf("want ErrNoStore, got %v", err)
	}
	r.offline()
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("the old version must survive a failed put: %v", err)
	}
}

func TestReplaceAndDeleteCollectBlocks(t *testing.T) {
	for _, extents := range []bool{true, false} {
		t.Run(fmt.Sprintf("extents=%v", extents), func(t *testing.T) { testReplaceAndDelete(t, extents) })
	}
}

func testReplaceAndDelete(t *testing.T, extents bool) {
	r := newRig(t, 2, 0, 100)
	r.eng.NoExtents = !extents
	r.put(t, "k", mirror("s0", "s1"), data(500, 11))
	r.put(t, "k", mirror("s0", "s1"), data(200, 12))
	count := func() int {
		n := 0
		for _, m := range r.mems {
			_ = m.List(context.Background(), "blocks/", func(string) error { n++; return nil })
		}
		return n
	}
	want := 4 // 2 chunks x 2 mirrors
	if extents {
		want = 2 // one extent per mirror
	}
	if n := count(); n != want {
		t.Errorf("after replace: %d keys under blocks/, want %d", n, want)
	}
	if err := r.eng.Delete(context.Background(), "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("after delete: %d blocks", n)
	}
	if g, _ := r.eng.Meta.Garbage(); len(g) != 0 {
		t.Errorf("garbage left: %d", len(g))
	}
	if _, _, err := r.get("k"); !errors.Is(err, ErrNoObject) {
		t.Errorf("get after delete: %v", err)
	}
}

func TestRecoverFromStoresAlone(t *testing.T) {
	r := newRig(t, 3, 0, 100)
	want := map[string][]byte{"a": data(250, 13), "b/c": data(10, 14)}
	for k, v := range want {
		r.put(t, k, mirror("s0", "s1"), v)
	}
	r.put(t, "a", mirror("s0", "s1"), want["a"]) // a newer version of a
	meta, err := OpenMeta(filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	r.eng.Meta = meta
	rep, err := r.eng.Recover(context.Background(), "bkt")
	if err != nil || rep.Restored != 2 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	for k, v := range want {
		if got, _, err := r.get(k); err != nil || !bytes.Equal(got, v) {
			t.Errorf("%s after recovery: %v", k, err)
		}
	}
}

func TestCancelledPutLeavesNoBlocks(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	ctx, cancel := context.WithCancel(context.Background())
	reader := &cancelAfter{r: bytes.NewReader(data(5000, 15)), n: 2000, cancel: cancel}
	if _, err := r.eng.Put(ctx, "bkt", "k", mirror("s0", "s1"), reader); err == nil {
		t.Fatal("a cancelled put succeeded")
	}
	n := 0
	for _, m := range r.mems {
		_ = m.List(context.Background(), "", func(string) error { n++; return nil })
	}
	if n != 0 {
		t.Errorf("%d blocks left behind", n)
	}
}

// A reader that fails part way: the Put fails with the reader's error,
// leaves no block behind, and the engine's next Put (recycling the same
// buffers) stores an object whose SHA-256 is its content's.
func TestPutReadErrorLeavesNothing(t *testing.T) {
	r := newRig(t, 6, 0, 1000)
	boom := errors.New("boom")
	for _, pol := range []Policy{mirror("s0", "s1"), spread("s0", "s1", "s2"), erasure(4, 2, "s0", "s1", "s2", "s3", "s4", "s5")} {
		reader := io.MultiReader(bytes.NewReader(data(7500, 3)), iotest.ErrReader(boom))
		if _, err := r.eng.Put(context.Background(), "bkt", "k", pol, reader); !errors.Is(err, boom) {
			t.Fatalf("%s: put from a failing reader: %v", pol.Tiers[0].Placement, err)
		}
		for name, m := range r.mems {
			_ = m.List(context.Background(), "", func(key string) error {
				t.Errorf("%s: %s left behind on %s", pol.Tiers[0].Placement, key, name)
				return nil
			})
		}
		want := data(9999, 4)
		man, err := r.eng.Put(context.Background(), "bkt", "k", pol, bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(want); man.SHA256 != hex.EncodeToString(sum[:]) || man.Size != int64(len(want)) {
			t.Fatalf("manifest says %d bytes, SHA-256 %s; want %d, %x", man.Size, man.SHA256, len(want), sum)
		}
		if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read back: %v", err)
		}
		if err := r.eng.Delete(context.Background(), "bkt", "k"); err != nil {
			t.Fatal(err)
		}
		if err := r.eng.CollectGarbage(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

type cancelAfter struct {
	r      *bytes.Reader
	n      int
	read   int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.read >= c.n {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func TestPolicyFromBucketClassAndPromise(t *testing.T) {
	if _, _, err := ParseErasure("4+0"); err == nil {
		t.Error("4+0 accepted")
	}
	p := erasure(2, 1, "a", "b", "c")
	if !p.Promise(map[string]bool{"a": true}) || p.Promise(map[string]bool{"a": true, "b": true}) {
		t.Error("2+1 promises exactly one loss")
	}
	if mirror("a", "b").Promise(map[string]bool{"a": true, "b": true}) || !mirror("a", "b").Promise(map[string]bool{"b": true}) {
		t.Error("mirror promises all but one")
	}
	if spread("a", "b").Promise(map[string]bool{"a": true}) {
		t.Error("plain spread promises nothing")
	}
	if err := erasure(4, 2, "a", "b").Validate(); err == nil || !strings.Contains(err.Error(), "needs 6 stores") {
		t.Errorf("got %v", err)
	}
}

// TestObjectHashCatchesAWrongManifest: with VerifyObjectHash, a manifest
// whose blocks are individually sound but describe other bytes fails.
func TestObjectHashCatchesAWrongManifest(t *testing.T) {
	r := newRig(t, 1, 0, 100)
	man := r.put(t, "k", spread("s0"), data(300, 21))
	man.SHA256 = strings.Repeat("0", 64)
	if _, err := r.eng.ReadManifest(context.Background(), man, io.Discard); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("want ErrUnreadable, got %v", err)
	}
	r.eng.VerifyObjectHash = false
	if _, err := r.eng.ReadManifest(context.Background(), man, io.Discard); err != nil {
		t.Fatalf("without the object hash the blocks alone decide: %v", err)
	}
}

func TestBucketRecordAndDelete(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 1024)
	e := r.eng
	pol := mirror("s0", "s1")
	if _, err := e.Meta.Bucket("b1"); !errors.Is(err, ErrNoBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
	if err := e.Meta.PutBucket(Bucket{Name: "b1", Policy: pol, Class: "mirror", Generation: 2}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Meta.Bucket("b1")
	if err != nil || got.Class != "mirror" || got.Generation != 2 || len(got.Policy.Tiers) != 1 {
		t.Fatalf("bucket record: %+v %v", got, err)
	}
	if err := e.Meta.PutBucket(Bucket{Name: "bad", Policy: Policy{}}); err == nil {
		t.Fatal("a bucket without tiers was accepted")
	}
	for _, k := range []string{"x", "y"} {
		if _, err := e.Put(ctx, "b1", k, pol, strings.NewReader(strings.Repeat(k, 3000))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Put(ctx, "b10", "keep", pol, strings.NewReader("other bucket")); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteBucket(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if left, _ := e.Meta.List("b1"); len(left) != 0 {
		t.Fatalf("objects left in the deleted bucket: %d", len(left))
	}
	if _, err := e.Meta.Bucket("b1"); !errors.Is(err, ErrNoBucket) {
		t.Fatalf("bucket record left: %v", err)
	}
	if g, _ := e.Meta.Garbage(); len(g) != 0 {
		t.Fatalf("garbage left with every store up: %d", len(g))
	}
	if _, _, err := e.Get(ctx, "b10", "keep", io.Discard); err != nil {
		t.Fatalf("a bucket whose name starts the same lost its object: %v", err)
	}
	for name, s := range e.Stores {
		var keys []string
		if err := s.List(ctx, "", func(k string) error { keys = append(keys, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 { // b10/keep: one block + one manifest copy
			t.Fatalf("store %s holds %d keys after the bucket was deleted, want 2: %v", name, len(keys), keys)
		}
	}
}
