package placement

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// Two handles on one file (as two nb processes have) take turns: neither
// keeps the file locked between its transactions, so neither waits for
// the other's lifetime. Hold keeps it (the owner of the data path).
func TestMetaLockedOnlyPerTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "buckets.db")
	a, err := OpenMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	b.Timeout = 200 * time.Millisecond
	pol := Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"s1"}}}}
	for i := 0; i < 20; i++ {
		if err := a.PutBucket(Bucket{Name: "one", Policy: pol}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Bucket("one"); err != nil {
			t.Fatalf("second handle after the first's transaction: %v", err)
		}
	}
	if err := a.Hold(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Bucket("one"); err == nil || !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("while the first handle holds the file: %v, want a timeout", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Bucket("one"); err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
}

// Large manifests are kept decoded: a caller changing what Get returned
// changes nothing for the next caller, and a new version is seen at once.
func TestMetaKeepsLargeManifestsDecodedSafely(t *testing.T) {
	r := newRig(t, 2, 0, 100)
	man := r.put(t, "k", mirror("s0", "s1"), data(100*cacheMinChunks+7, 1))
	a, err := r.eng.Meta.Get("bkt", "k")
	if err != nil {
		t.Fatal(err)
	}
	a.Chunks[0].Blocks[0].Store = "changed"
	a.Chunks = a.Chunks[:1]
	b, err := r.eng.Meta.Get("bkt", "k")
	if err != nil || len(b.Chunks) != len(man.Chunks) || b.Chunks[0].Blocks[0].Store == "changed" {
		t.Fatalf("a caller's change reached the next Get: %v", err)
	}
	again := r.put(t, "k", mirror("s0", "s1"), data(100*cacheMinChunks+9, 2))
	c, err := r.eng.Meta.Get("bkt", "k")
	if err != nil || c.ObjectID != again.ObjectID || c.Size != again.Size {
		t.Fatalf("after a new version: %v %v", c.ObjectID, err)
	}
}

// While held, bucket records are served from memory and every change of
// one is seen at once.
func TestHeldMetaBucketRecords(t *testing.T) {
	m, err := OpenMeta(filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Hold(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	one := Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"a"}}}}
	two := Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"b"}}}}
	if err := m.PutBucket(Bucket{Name: "x", Policy: one}); err != nil {
		t.Fatal(err)
	}
	if b, err := m.Bucket("x"); err != nil || b.Policy.Tiers[0].Placement != "Mirror" {
		t.Fatalf("%+v %v", b, err)
	}
	if err := m.PutBucket(Bucket{Name: "x", Policy: two}); err != nil {
		t.Fatal(err)
	}
	if b, err := m.Bucket("x"); err != nil || b.Policy.Tiers[0].Placement != "Spread" {
		t.Fatalf("after a change: %+v %v", b, err)
	}
	if err := m.RemoveBucket("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Bucket("x"); !errors.Is(err, ErrNoBucket) {
		t.Fatalf("after removal: %v", err)
	}
}
