package placement

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nbctl/nb/pkg/blockstore/faulty"
)

// Property: random objects, then random sequences of class changes (over
// four stores), rebalances and single-store failures. Whenever every
// object is placed as the current policy says and at most one store is
// down, every acknowledged object reads back byte-identical; a rebalance
// with a store down either moves an object or reports it, never loses it.
func TestRebalanceProperty(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	r := newRig(t, 4, 0, 64<<10)
	stores := []string{"s0", "s1", "s2", "s3"}
	randomPolicy := func() Policy {
		perm := rng.Perm(4)
		n := 2 + rng.IntN(2)
		var chosen []string
		for _, i := range perm[:n] {
			chosen = append(chosen, stores[i])
		}
		return Policy{Tiers: []Tier{{Placement: "Mirror", Stores: chosen}}}
	}
	pol := randomPolicy()
	if err := r.eng.Meta.PutBucket(Bucket{Name: "bkt", Policy: pol}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := 0; i < 12; i++ {
		key := fmt.Sprintf("k%d", i)
		body := data(1+rng.IntN(300<<10), rng.Uint64())
		if _, err := r.eng.Put(context.Background(), "bkt", key, pol, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		want[key] = body
	}
	checkAll := func(step string) {
		t.Helper()
		for key, body := range want {
			got, _, err := r.get(key)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%s: %s: %v (same bytes: %v)", step, key, err, bytes.Equal(got, body))
			}
		}
	}
	for step := 0; step < 15; step++ {
		pol = randomPolicy()
		if err := r.eng.Meta.PutBucket(Bucket{Name: "bkt", Policy: pol}); err != nil {
			t.Fatal(err)
		}
		// Sometimes a store is down during the rebalance.
		down := ""
		if rng.IntN(3) == 0 {
			down = stores[rng.IntN(4)]
			r.faults[down].Set(faulty.Faults{Offline: true})
		}
		rep, err := r.eng.Rebalance(context.Background(), "bkt", pol, RepairOptions{})
		if err != nil {
			t.Fatalf("step %d: rebalance: %v", step, err)
		}
		if rep.Moved+rep.Placed+rep.Skipped+len(rep.Unreadable) != rep.Objects {
			t.Fatalf("step %d: report does not add up: %+v", step, rep)
		}
		if down != "" {
			r.faults[down].Set(faulty.Faults{})
			checkAll(fmt.Sprintf("step %d after a rebalance with %s down", step, down))
			// What was written degraded or could not move: heal and move now.
			if _, err := r.eng.Heal(context.Background(), "bkt"); err != nil {
				t.Fatal(err)
			}
			if rep, err = r.eng.Rebalance(context.Background(), "bkt", pol, RepairOptions{}); err != nil || len(rep.Unreadable) > 0 {
				t.Fatalf("step %d: rebalance with every store up: %v %+v", step, err, rep)
			}
		}
		if err := r.eng.CollectGarbage(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Every object follows the policy now; any single store may fail.
		list, _ := r.eng.Meta.List("bkt")
		for _, man := range list {
			if Misplaced(man, pol) {
				t.Fatalf("step %d: %s still placed as %v, policy %v", step, man.Key, man.Tiers, pol.Tiers)
			}
		}
		// A store the policy dropped holds nothing of the bucket any more.
		for _, s := range stores {
			if slices.Contains(pol.Tiers[0].Stores, s) {
				continue
			}
			n := 0
			_ = r.mems[s].List(context.Background(), "", func(string) error { n++; return nil })
			if n > 0 {
				t.Fatalf("step %d: %s is out of the policy but holds %d keys", step, s, n)
			}
		}
		fail := pol.Tiers[0].Stores[rng.IntN(len(pol.Tiers[0].Stores))]
		r.faults[fail].Set(faulty.Faults{Offline: true})
		checkAll(fmt.Sprintf("step %d with %s down", step, fail))
		r.faults[fail].Set(faulty.Faults{})
	}
}

// A scrub reports every block it reads to its throttle.
func TestScrubCallsTheThrottle(t *testing.T) {
	r := newRig(t, 2, 0, 64<<10)
	pol := Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"s0", "s1"}}}}
	r.put(t, "k", pol, data(300<<10, 1))
	var read int
	rep, err := r.eng.RepairBucket(context.Background(), "bkt", RepairOptions{Throttle: func(_ context.Context, n int) error { read += n; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BlocksChecked == 0 || read != 2*(300<<10) {
		t.Errorf("throttle heard %d bytes for %d blocks of a 300 KiB object mirrored twice", read, rep.BlocksChecked)
	}
}
