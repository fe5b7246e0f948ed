package faulty

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/mem"
	"github.com/nbctl/nb/pkg/blockstore/storetest"
)

func TestConformanceWithoutFaults(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blockstore.Store { return New(mem.New("m", 0), 1) })
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	s := New(mem.New("m", 0), 7)
	if err := s.Put(ctx, "a", []byte("hello")); err != nil {
		t.Fatal(err)
	}

	s.Set(Faults{Offline: true})
	if _, err := s.Get(ctx, "a"); !blockstore.IsUnavailable(err) {
		t.Errorf("offline get: %v", err)
	}

	s.Set(Faults{Corrupt: true})
	if got, err := s.Get(ctx, "a"); err != nil || bytes.Equal(got, []byte("hello")) {
		t.Errorf("corrupt get: %q %v", got, err)
	}

	s.Set(Faults{FailAfterBytes: 10})
	if err := s.Put(ctx, "b", make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c", make([]byte, 8)); !blockstore.IsUnavailable(err) {
		t.Errorf("put past the byte limit: %v", err)
	}

	s.Set(Faults{FailFraction: 0.5})
	fails := 0
	for i := 0; i < 1000; i++ {
		if _, err := s.Get(ctx, "a"); err != nil {
			fails++
		}
	}
	if fails < 400 || fails > 600 {
		t.Errorf("%d of 1000 calls failed with FailFraction 0.5", fails)
	}

	s.Set(Faults{Delay: time.Second})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := s.Get(cctx, "a"); err == nil || time.Since(start) > 500*time.Millisecond {
		t.Errorf("slow get must honour cancellation: %v after %s", err, time.Since(start))
	}
}
