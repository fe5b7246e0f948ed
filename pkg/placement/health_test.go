package placement

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/faulty"
)

// counting counts the reads that reach a store.
type counting struct {
	blockstore.Store
	gets atomic.Int64
}

func (c *counting) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *counting) GetInto(ctx context.Context, key string, buf []byte) ([]byte, error) {
	c.gets.Add(1)
	return blockstore.GetInto(ctx, c.Store, key, buf)
}

// A Mirror read with one copy's store unreachable tries that store once,
// not once per chunk, and later reads try it last until failingFor has
// passed (an unreachable S3 store costs a timeout per request).
func TestReadsStopTryingAFailingStore(t *testing.T) {
	r := newRig(t, 2, 0, 64<<10)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.eng.Now = func() time.Time { return now }
	r.eng.Parallelism = 1
	// Neither decorator holds extents: each chunk's copies are tried in
	// turn, so without the health record half the chunks would try s1
	// first.
	down := &counting{Store: r.faults["s1"]}
	r.eng.Stores["s0"], r.eng.Stores["s1"] = &counting{Store: r.faults["s0"]}, down
	want := data(32*64<<10, 7)
	r.put(t, "k", Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"s0", "s1"}}}}, want)

	r.faults["s1"].Set(faulty.Faults{Offline: true, Delay: time.Millisecond})
	down.gets.Store(0)
	got, _, err := r.get("k")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("degraded read: %v", err)
	}
	if n := down.gets.Load(); n != 1 {
		t.Errorf("the failing store was tried %d times in one read of 32 chunks, want once", n)
	}
	down.gets.Store(0)
	if _, _, err := r.get("k"); err != nil {
		t.Fatal(err)
	}
	if n := down.gets.Load(); n != 0 {
		t.Errorf("a read right after tried the failing store %d times first", n)
	}
	// Once failingFor has passed the store is tried again; when it is
	// back it serves reads as before.
	now = now.Add(failingFor + time.Second)
	r.faults["s1"].Set(faulty.Faults{})
	down.gets.Store(0)
	if _, _, err := r.get("k"); err != nil {
		t.Fatal(err)
	}
	if n := down.gets.Load(); n == 0 {
		t.Errorf("a store back after failingFor is never read again")
	}
}
