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
