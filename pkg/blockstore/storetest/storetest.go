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
}
