// Package storetest is the conformance suite every block store driver
// runs: `storetest.Run(t, func(t *testing.T) blockstore.Store { ... })`.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Run runs the suite; newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) blockstore.Store) {
	ctx := context.Background()
	blob := func(n int, seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, seed))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		for i, n := range []int{0, 1, 4096, 4<<20 + 7} {
			key := fmt.Sprintf("rt/b%d", i)
			want := blob(n, uint64(i))
			if err := s.Put(ctx, key, want); err != nil {
				t.Fatalf("put %d bytes: %v", n, err)
			}
			got, err := s.Get(ctx, key)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("get %d bytes: err %v, equal %v", n, err, bytes.Equal(got, want))
			}
			size, err := s.Stat(ctx, key)
			if err != nil || size != int64(n) {
				t.Fatalf("stat: %d, %v", size, err)
			}
		}
	})

	t.Run("OverwriteReplacesWholeBlock", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "ow/a", blob(1000, 1)); err != nil {
			t.Fatal(err)
		}
		want := blob(10, 2)
		if err := s.Put(ctx, "ow/a", want); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, "ow/a"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("GetReturnsACopy", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "cp/a", []byte("abc")); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Get(ctx, "cp/a")
		got[0] = 'X'
		if again, _ := s.Get(ctx, "cp/a"); string(again) != "abc" {
			t.Fatalf("store changed through a returned slice: %q", again)
		}
	})

	t.Run("MissingIsNotFound", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, "none/x"); !blockstore.IsNotFound(err) {
			t.Errorf("get: %v", err)
		}
		if _, err := s.Stat(ctx, "none/x"); !blockstore.IsNotFound(err) {
			t.Errorf("stat: %v", err)
		}
		if err := s.Delete(ctx, "none/x"); err != nil {
			t.Errorf("delete of a missing block: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "del/a", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "del/a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "del/a"); !blockstore.IsNotFound(err) {
			t.Fatalf("after delete: %v", err)
		}
	})

	t.Run("ListByPrefix", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"l/a/1", "l/a/2", "l/b/1", "m/x"}
		for _, k := range keys {
			if err := s.Put(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		if err := s.List(ctx, "l/a/", func(k string) error { got = append(got, k); return nil }); err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if fmt.Sprint(got) != "[l/a/1 l/a/2]" {
			t.Errorf("list l/a/: %v", got)
		}
		got = nil
		if err := s.List(ctx, "", func(k string) error { got = append(got, k); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(keys) {
			t.Errorf("list all: %v", got)
		}
		stop := errors.New("stop")
		if err := s.List(ctx, "", func(string) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("a callback's error must end List: %v", err)
		}
	})

	t.Run("InvalidKeysArePermanent", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"", "/abs", "a/../../etc/passwd", "a//b", "a/", "sp ace", "..", "a/./b"} {
			if err := s.Put(ctx, k, []byte("x")); !errors.Is(err, blockstore.ErrPermanent) {
				t.Errorf("put %q: %v", k, err)
			}
		}
	})

	t.Run("CapacityTracksUse", func(t *testing.T) {
		s := newStore(t)
		before, err := s.Capacity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, "cap/a", blob(1000, 3)); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Capacity(ctx)
		if after.Used < before.Used+1000 {
			t.Errorf("used %d -> %d after a 1000-byte put", before.Used, after.Used)
		}
		if err := s.Delete(ctx, "cap/a"); err != nil {
			t.Fatal(err)
		}
		final, _ := s.Capacity(ctx)
		if final.Used > before.Used {
			t.Errorf("used %d after delete, %d before", final.Used, before.Used)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 8; i++ {
					key := fmt.Sprintf("cc/%d/%d", w, i)
					data := blob(1024+w*i, uint64(w*100+i))
					if err := s.Put(ctx, key, data); err != nil {
						errs <- err
						return
					}
					got, err := s.Get(ctx, key)
					if err != nil || !bytes.Equal(got, data) {
						errs <- fmt.Errorf("%s: %v", key, err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, "cx/a", []byte("x")); err == nil {
			t.Error("put with a cancelled context succeeded")
		}
		if _, err := s.Get(cctx, "cx/a"); err == nil {
			t.Error("get with a cancelled context succeeded")
		}
	})

	if _, ok := blockstore.ExtentsOf(newStore(t)); ok {
		t.Run("Extents", func(t *testing.T) { runExtents(t, newStore, blob) })
	}
	if _, ok := blockstore.AppenderOf(newStore(t)); ok {
		t.Run("Appends", func(t *testing.T) { runAppends(t, newStore, blob) })
	}
}

// runAppends is the suite's part for stores that append to extents.
func runAppends(t *testing.T, newStore func(t *testing.T) blockstore.Store, blob func(int, uint64) []byte) {
	ctx := context.Background()
	t.Run("ConcurrentAppendsAreWholeAndReadable", func(t *testing.T) {
		s := newStore(t)
		a, _ := blockstore.AppenderOf(s)
		x, _ := blockstore.ExtentsOf(s)
		const n = 200
		offs := make([]int64, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off, err := a.Append(ctx, "packs/p1", blob(100+i*37, uint64(i)))
				offs[i] = off
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		// Every append is one stretch, none overlaps another, and
		// together they fill the extent from 0 without a gap.
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(i, j int) bool { return offs[order[i]] < offs[order[j]] })
		var next int64
		for _, i := range order {
			if offs[i] != next {
				t.Fatalf("append %d at %d, want %d", i, offs[i], next)
			}
			next += int64(100 + i*37)
		}
		r, err := x.OpenExtent(ctx, "packs/p1")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i := 0; i < n; i++ {
			got, err := r.ReadAt(ctx, offs[i], 100+i*37, nil)
			if err != nil || !bytes.Equal(got, blob(100+i*37, uint64(i))) {
				t.Fatalf("append %d read back: %v", i, err)
			}
		}
		if got := listed(t, s, "packs/"); len(got) != 1 || got[0] != "packs/p1" {
			t.Errorf("listed %v, want [packs/p1]", got)
		}
	})
	t.Run("ReadableWhileGrowingAndAfterClose", func(t *testing.T) {
		s := newStore(t)
		a, _ := blockstore.AppenderOf(s)
		x, _ := blockstore.ExtentsOf(s)
		if _, err := a.Append(ctx, "packs/p2", []byte("first")); err != nil {
			t.Fatal(err)
		}
		r, err := x.OpenExtent(ctx, "packs/p2")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := a.CloseAppend("packs/p2"); err != nil {
			t.Fatal(err)
		}
		off, err := a.Append(ctx, "packs/p2", []byte("second"))
		if err != nil || off != 5 {
			t.Fatalf("append after CloseAppend at %d (%v), want 5", off, err)
		}
		if got, err := r.ReadAt(ctx, 5, 6, nil); err != nil || string(got) != "second" {
			t.Fatalf("read the second append: %q, %v", got, err)
		}
		if err := s.Delete(ctx, "packs/p2"); err != nil {
			t.Fatal(err)
		}
		a.CloseAppend("packs/p2")
		if _, err := x.OpenExtent(ctx, "packs/p2"); !blockstore.IsNotFound(err) {
			t.Errorf("open a deleted pack: %v", err)
		}
	})
	t.Run("AppendLaterThenSync", func(t *testing.T) {
		s := newStore(t)
		a, _ := blockstore.AppenderOf(s)
		x, _ := blockstore.ExtentsOf(s)
		var wg sync.WaitGroup
		ends := make([]int64, 50)
		errs := make(chan error, 100)
		for i := range ends {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off, err := a.AppendLater(ctx, "packs/p5", blob(300, uint64(i)))
				if err == nil {
					ends[i] = off + 300
					err = a.SyncAppends(ctx, "packs/p5", ends[i])
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		r, err := x.OpenExtent(ctx, "packs/p5")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for i, end := range ends {
			if got, err := r.ReadAt(ctx, end-300, 300, nil); err != nil || !bytes.Equal(got, blob(300, uint64(i))) {
				t.Fatalf("append %d: %v", i, err)
			}
		}
	})
	t.Run("OverwriteChangesOnlyWhatItCovers", func(t *testing.T) {
		s := newStore(t)
		a, _ := blockstore.AppenderOf(s)
		x, _ := blockstore.ExtentsOf(s)
		if _, err := a.Append(ctx, "packs/p4", []byte("hello world")); err != nil {
			t.Fatal(err)
		}
		if err := a.Overwrite(ctx, "packs/p4", []blockstore.Patch{{Off: 6, Data: []byte("W")}, {Off: 0, Data: []byte("j")}}); err != nil {
			t.Fatal(err)
		}
		r, err := x.OpenExtent(ctx, "packs/p4")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if got, err := r.ReadAt(ctx, 0, 11, nil); err != nil || string(got) != "jello World" {
			t.Fatalf("after overwrite: %q, %v", got, err)
		}
		if err := a.Overwrite(ctx, "packs/p4", []blockstore.Patch{{Off: 10, Data: []byte("xx")}}); err == nil {
			t.Error("an overwrite past the end succeeded")
		}
		if err := a.Overwrite(ctx, "packs/none", []blockstore.Patch{{Off: 0, Data: []byte("x")}}); err == nil {
			t.Error("an overwrite of a missing extent succeeded")
		}
	})
	t.Run("CancelledContextAndBadKey", func(t *testing.T) {
		s := newStore(t)
		a, _ := blockstore.AppenderOf(s)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := a.Append(cctx, "packs/p3", []byte("x")); err == nil {
			t.Error("append with a cancelled context succeeded")
		}
		if _, err := a.Append(ctx, "../p3", []byte("x")); !errors.Is(err, blockstore.ErrPermanent) {
			t.Errorf("append under a bad key: %v, want permanent", err)
		}
	})
}

func listed(t *testing.T, s blockstore.Store, prefix string) []string {
	t.Helper()
	var got []string
	if err := s.List(context.Background(), prefix, func(k string) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	return got
}

// runExtents is the suite's part for stores that hold extents.
func runExtents(t *testing.T, newStore func(t *testing.T) blockstore.Store, blob func(int, uint64) []byte) {
	ctx := context.Background()
	type blk struct {
		off  int64
		data []byte
	}
	// Blocks of awkward sizes at aligned offsets, some past 1 GiB and
	// 2 GiB (a dir store moves to another volume there), one from an
	// unaligned buffer.
	layout := func() []blk {
		unaligned := blob(5000, 9)[1:]
		return []blk{
			{0, blob(4<<20+16, 1)},
			{4<<20 + 4096*2, blob(1, 2)},
			{4<<20 + 4096*3, unaligned},
			{1 << 30, blob(8192, 3)},
			{2<<30 + 4096, blob(100000, 4)},
		}
	}
	write := func(t *testing.T, s blockstore.Store, key string, blocks []blk) blockstore.ExtentWriter {
		x, _ := blockstore.ExtentsOf(s)
		w, err := x.CreateExtent(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(blocks))
		for _, b := range blocks {
			wg.Add(1)
			go func(b blk) {
				defer wg.Done()
				if err := w.WriteAt(ctx, b.data, b.off); err != nil {
					errs <- fmt.Errorf("write %d bytes at %d: %w", len(b.data), b.off, err)
				}
			}(b)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		return w
	}
	readBack := func(t *testing.T, s blockstore.Store, key string, blocks []blk) {
		x, _ := blockstore.ExtentsOf(s)
		r, err := x.OpenExtent(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		buf := make([]byte, 0, 64)
		for _, b := range blocks {
			got, err := r.ReadAt(ctx, b.off, len(b.data), buf)
			if err != nil || !bytes.Equal(got, b.data) {
				t.Fatalf("read %d bytes at %d: err %v, equal %v", len(b.data), b.off, err, bytes.Equal(got, b.data))
			}
		}
		// Uncached reads return the same bytes, into a buffer too small,
		// an exact one or a roomy one.
		if u, ok := r.(blockstore.UncachedReader); ok {
			for _, b := range blocks {
				for _, buf := range [][]byte{nil, make([]byte, len(b.data)), make([]byte, 0, len(b.data)+2*blockstore.ExtentAlign)} {
					got, err := u.ReadAtUncached(ctx, b.off, len(b.data), buf)
					if err != nil || !bytes.Equal(got, b.data) {
						t.Fatalf("uncached read of %d bytes at %d (buffer cap %d): err %v, equal %v", len(b.data), b.off, cap(buf), err, bytes.Equal(got, b.data))
					}
				}
			}
		}
	}
	listed := func(t *testing.T, s blockstore.Store, prefix string) []string {
		var got []string
		if err := s.List(ctx, prefix, func(k string) error { got = append(got, k); return nil }); err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		return got
	}

	t.Run("RoundTripVisibleOnlyAfterCommit", func(t *testing.T) {
		s := newStore(t)
		x, _ := blockstore.ExtentsOf(s)
		before, _ := s.Capacity(ctx)
		blocks := layout()
		w := write(t, s, "ext/a/x0", blocks)
		if _, err := x.OpenExtent(ctx, "ext/a/x0"); !blockstore.IsNotFound(err) {
			t.Fatalf("open before commit: %v", err)
		}
		if got := listed(t, s, "ext/"); len(got) != 0 {
			t.Fatalf("listed before commit: %v", got)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteAt(ctx, []byte("late"), 1<<30); err == nil {
			t.Error("a write after commit succeeded")
		}
		w.Abort() // after Commit: nothing
		readBack(t, s, "ext/a/x0", blocks)
		if got := listed(t, s, "ext/"); fmt.Sprint(got) != "[ext/a/x0]" {
			t.Errorf("list: %v, want the extent once", got)
		}
		var total int64
		for _, b := range blocks {
			total += int64(len(b.data))
		}
		if c, _ := s.Capacity(ctx); c.Used < before.Used+total {
			t.Errorf("used %d -> %d after writing %d bytes", before.Used, c.Used, total)
		}
		if err := s.Delete(ctx, "ext/a/x0"); err != nil {
			t.Fatal(err)
		}
		if _, err := x.OpenExtent(ctx, "ext/a/x0"); !blockstore.IsNotFound(err) {
			t.Errorf("open after delete: %v", err)
		}
		if got := listed(t, s, ""); len(got) != 0 {
			t.Errorf("left after delete: %v", got)
		}
		if c, _ := s.Capacity(ctx); c.Used > before.Used {
			t.Errorf("used %d after delete, %d before", c.Used, before.Used)
		}
	})

	t.Run("AbortLeavesNothing", func(t *testing.T) {
		s := newStore(t)
		x, _ := blockstore.ExtentsOf(s)
		before, _ := s.Capacity(ctx)
		w := write(t, s, "ext/b/x0", layout())
		w.Abort()
		if err := w.Commit(ctx); err == nil {
			t.Error("commit after abort succeeded")
		}
		if _, err := x.OpenExtent(ctx, "ext/b/x0"); !blockstore.IsNotFound(err) {
			t.Errorf("open after abort: %v", err)
		}
		if got := listed(t, s, ""); len(got) != 0 {
			t.Errorf("left after abort: %v", got)
		}
		if c, _ := s.Capacity(ctx); c.Used != before.Used {
			t.Errorf("used %d after abort, %d before", c.Used, before.Used)
		}
	})

	t.Run("ReadsOutsideWhatWasWrittenFail", func(t *testing.T) {
		s := newStore(t)
		x, _ := blockstore.ExtentsOf(s)
		w := write(t, s, "ext/c/x0", []blk{{0, blob(100, 5)}})
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := x.OpenExtent(ctx, "ext/c/x0")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.ReadAt(ctx, 1<<20, 100, nil); err == nil {
			t.Error("a read past the end succeeded")
		}
		if _, err := r.ReadAt(ctx, -1, 10, nil); err == nil {
			t.Error("a read at a negative offset succeeded")
		}
		if u, ok := r.(blockstore.UncachedReader); ok {
			if _, err := u.ReadAtUncached(ctx, 1<<20, 100, nil); err == nil {
				t.Error("an uncached read past the end succeeded")
			}
			if _, err := u.ReadAtUncached(ctx, 0, 101, nil); err == nil {
				t.Error("an uncached read across the end succeeded")
			}
			if _, err := u.ReadAtUncached(ctx, -1, 10, nil); err == nil {
				t.Error("an uncached read at a negative offset succeeded")
			}
			if got, err := u.ReadAtUncached(ctx, 0, 100, nil); err != nil || len(got) != 100 {
				t.Errorf("an uncached read of all 100 bytes: %d, %v", len(got), err)
			}
		}
		if _, err := x.OpenExtent(ctx, "ext/none/x0"); !blockstore.IsNotFound(err) {
			t.Errorf("open of a missing extent: %v", err)
		}
	})

	t.Run("ExtentsAndBlocksSideBySide", func(t *testing.T) {
		s := newStore(t)
		if err := s.Put(ctx, "ext/d/0", []byte("block")); err != nil {
			t.Fatal(err)
		}
		blocks := []blk{{0, blob(10000, 6)}, {16384, blob(3, 7)}}
		w := write(t, s, "ext/d/x0", blocks)
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if got := listed(t, s, "ext/d/"); fmt.Sprint(got) != "[ext/d/0 ext/d/x0]" {
			t.Errorf("list: %v", got)
		}
		if err := s.Delete(ctx, "ext/d/0"); err != nil {
			t.Fatal(err)
		}
		readBack(t, s, "ext/d/x0", blocks)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		x, _ := blockstore.ExtentsOf(s)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := x.CreateExtent(cctx, "ext/e/x0"); err == nil {
			t.Error("create with a cancelled context succeeded")
		}
		w := write(t, s, "ext/e/x0", []blk{{0, []byte("x")}})
		if err := w.Commit(cctx); err == nil {
			t.Error("commit with a cancelled context succeeded")
		}
		if _, err := x.OpenExtent(ctx, "ext/e/x0"); !blockstore.IsNotFound(err) {
			t.Errorf("open after a cancelled commit: %v", err)
		}
	})
}
