package placement

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// keys lists what the rig's stores hold under prefix, by store.
func (r *rig) keys(t *testing.T, prefix string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, m := range r.mems {
		if err := m.List(context.Background(), prefix, func(k string) error {
			out[name] = append(out[name], k)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func count(m map[string][]string) int {
	n := 0
	for _, l := range m {
		n += len(l)
	}
	return n
}

// loseMetadata swaps the rig's metadata for an empty file, as after the
// loss of the local state.
func (r *rig) loseMetadata(t *testing.T) {
	t.Helper()
	meta, err := OpenMeta(filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	r.eng.Meta = meta
}

func TestDeleteWithEveryStoreUpLeavesNoTombstone(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	r.put(t, "k", mirror("s0", "s1"), data(300, 1))
	if err := r.eng.Delete(context.Background(), "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if n := count(r.keys(t, "")); n != 0 {
		t.Fatalf("stores hold %d keys after a delete with every store up: %v", n, r.keys(t, ""))
	}
	if l, _ := r.eng.Meta.tombstones(); len(l) != 0 {
		t.Fatalf("metadata keeps %d tombstones", len(l))
	}
}

// A store that is down while an object is deleted keeps the object's
// manifest copy; recovering the bucket from its stores must not bring the
// object back, with the metadata intact or lost.
func TestDeletedWhileAStoreWasDownStaysDeleted(t *testing.T) {
	for _, lost := range []bool{false, true} {
		t.Run(map[bool]string{false: "metadata kept", true: "metadata lost"}[lost], func(t *testing.T) {
			ctx := context.Background()
			r := newRig(t, 3, 0, 100)
			r.put(t, "k", mirror("s0", "s1"), data(300, 2))
			r.put(t, "other", mirror("s0", "s1"), data(50, 3))
			r.offline("s1")
			if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
				t.Fatalf("delete with a mirror down: %v", err)
			}
			if got := r.keys(t, "tombstones/")["s0"]; len(got) != 1 || got[0] != tombstoneKey("bkt", "k") {
				t.Fatalf("tombstone on s0: %v", got)
			}
			r.offline()
			if len(r.keys(t, "manifests/")["s1"]) != 2 {
				t.Fatal("the test needs s1 to keep the deleted object's manifest")
			}
			if lost {
				r.loseMetadata(t)
			}
			rep, err := r.eng.Recover(ctx, "bkt")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Removed != 1 && lost || rep.Restored != map[bool]int{false: 0, true: 1}[lost] {
				t.Errorf("recover report %+v", rep)
			}
			if _, _, err := r.get("k"); !errors.Is(err, ErrNoObject) {
				t.Fatalf("deleted object came back: %v", err)
			}
			if got, _, err := r.get("other"); err != nil || !bytes.Equal(got, data(50, 3)) {
				t.Fatalf("the other object: %v", err)
			}
			// Every store is up again: the dead version and the
			// tombstones are gone; the other object remains.
			if n := count(r.keys(t, "tombstones/")); n != 0 {
				t.Errorf("%d tombstones left: %v", n, r.keys(t, "tombstones/"))
			}
			if n := count(r.keys(t, "manifests/")); n != 2 {
				t.Errorf("manifest copies: %v, want the other object's two", r.keys(t, "manifests/"))
			}
			if n := count(r.keys(t, "blocks/")); n != 2 {
				t.Errorf("blocks: %v, want the other object's two", r.keys(t, "blocks/"))
			}
			if l, _ := r.eng.Meta.tombstones(); len(l) != 0 {
				t.Errorf("metadata keeps %d tombstones", len(l))
			}
		})
	}
}

// A version replaced while its store was down, then the newer version
// deleted with every one of its stores up: the tombstone still has to be
// written, because the oldest version's manifest waits on the down store.
func TestReplacedThenDeletedOlderVersionStaysDeleted(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 3, 0, 100)
	r.put(t, "k", mirror("s0", "s1"), data(200, 4))
	r.offline("s1")
	r.put(t, "k", mirror("s0", "s2"), data(120, 5))
	if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if n := count(r.keys(t, "tombstones/")); n != 2 {
		t.Fatalf("tombstones on s0 and s2: %v", r.keys(t, "tombstones/"))
	}
	r.offline()
	r.loseMetadata(t)
	rep, err := r.eng.Recover(ctx, "bkt")
	if err != nil || rep.Restored != 0 || rep.Removed != 1 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	if _, _, err := r.get("k"); !errors.Is(err, ErrNoObject) {
		t.Fatalf("the first version came back: %v", err)
	}
	if n := count(r.keys(t, "")); n != 0 {
		t.Fatalf("stores still hold %v", r.keys(t, ""))
	}
}

// A version written after the deletion is live, tombstone or not.
func TestPutAfterDeleteIsRecovered(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 100)
	clock := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	r.eng.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	r.put(t, "k", mirror("s0", "s1"), data(200, 6))
	r.offline("s1")
	if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	r.put(t, "k", mirror("s0", "s1"), data(90, 7)) // degraded: s1 is down
	r.offline()
	r.loseMetadata(t)
	rep, err := r.eng.Recover(ctx, "bkt")
	if err != nil || rep.Restored != 1 || rep.Removed != 1 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, data(90, 7)) {
		t.Fatalf("the version written after the delete: %v", err)
	}
}

func TestBucketDeletedWhileAStoreWasDownStaysDeleted(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 100)
	pol := mirror("s0", "s1")
	for _, k := range []string{"a", "b/c"} {
		r.put(t, k, pol, data(150, 8))
	}
	r.offline("s0")
	if err := r.eng.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if got := r.keys(t, "tombstones/")["s1"]; len(got) != 1 || got[0] != tombstoneKey("bkt", "") {
		t.Fatalf("bucket tombstone on s1: %v", got)
	}
	r.offline()
	r.loseMetadata(t)
	rep, err := r.eng.Recover(ctx, "bkt")
	if err != nil || rep.Restored != 0 || rep.Removed != 2 {
		t.Fatalf("recover: %+v %v", rep, err)
	}
	if left, _ := r.eng.Meta.List("bkt"); len(left) != 0 {
		t.Fatalf("%d objects of the deleted bucket came back", len(left))
	}
	if n := count(r.keys(t, "")); n != 0 {
		t.Fatalf("stores still hold %v", r.keys(t, ""))
	}
}

// Without a recovery, the tombstone goes once the store is back and the
// garbage is collected.
func TestCollectGarbageRemovesTombstones(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 100)
	r.put(t, "k", mirror("s0", "s1"), data(100, 9))
	r.offline("s1")
	if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(r.keys(t, "tombstones/")); n != 1 {
		t.Fatalf("the tombstone must stay while s1 is down: %v", r.keys(t, "tombstones/"))
	}
	r.offline()
	if err := r.eng.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(r.keys(t, "")); n != 0 {
		t.Fatalf("stores still hold %v", r.keys(t, ""))
	}
	if l, _ := r.eng.Meta.tombstones(); len(l) != 0 {
		t.Fatalf("metadata keeps %d tombstones", len(l))
	}
}

func FuzzDecodeTombstone(f *testing.F) {
	good, err := encodeTombstone(&Tombstone{Version: ManifestVersion, Bucket: "b", Key: "k", Deleted: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"bucket":"b"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tb, err := DecodeTombstone(raw)
		if err != nil {
			if !errors.Is(err, ErrBadTombstone) {
				t.Fatalf("error does not wrap ErrBadTombstone: %v", err)
			}
			return
		}
		again, err := encodeTombstone(tb)
		if err != nil {
			t.Fatalf("accepted tombstone does not re-encode: %v", err)
		}
		if tb2, err := DecodeTombstone(again); err != nil || !tb2.Deleted.Equal(tb.Deleted) || tb2.Key != tb.Key || tb2.Bucket != tb.Bucket {
			t.Fatalf("round trip: %+v %v", tb2, err)
		}
	})
}
