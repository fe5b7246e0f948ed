package placement

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestPropertyReadableExactlyAsPromised writes random objects with random
// policies, fails random sets of stores, and checks that a read succeeds
// exactly when the manifest says it can, always when the policy promises
// it, and is then byte-identical.
func TestPropertyReadableExactlyAsPromised(t *testing.T) {
	seed := uint64(20261122)
	rnd := rand.New(rand.NewPCG(seed, 7))
	const chunk = 512
	all := []string{"s0", "s1", "s2", "s3", "s4", "s5"}
	cases := 300
	if testing.Short() {
		cases = 60
	}
	for i := 0; i < cases; i++ {
		perm := rnd.Perm(len(all))
		pick := func(n int) []string {
			out := make([]string, n)
			for j := range out {
				out[j] = all[perm[j]]
			}
			return out
		}
		var pol Policy
		switch rnd.IntN(4) {
		case 0:
			pol = mirror(pick(2 + rnd.IntN(3))...)
		case 1:
			pol = spread(pick(1 + rnd.IntN(4))...)
		case 2:
			k, m := 1+rnd.IntN(3), 1+rnd.IntN(2)
			pol = erasure(k, m, pick(k+m+rnd.IntN(6-k-m+1))...)
		default:
			s := pick(5)
			pol = Policy{Tiers: []Tier{{Placement: "Mirror", Stores: s[:2]}, {Placement: "Spread", Stores: s[2:]}}}
		}
		size := rnd.IntN(9 * chunk)
		want := data(size, uint64(i))
		r := newRig(t, 6, 0, chunk)
		r.eng.NoExtents = i%2 == 1 // both layouts: extents and a key per block
		man := r.put(t, "obj", pol, want)
		failed := map[string]bool{}
		var down []string
		for _, s := range all {
			if rnd.IntN(3) == 0 {
				failed[s] = true
				down = append(down, s)
			}
		}
		r.offline(down...)
		got, _, err := r.get("obj")
		name := fmt.Sprintf("case %d (seed %d, extents %v): %+v, %d bytes, failed %v", i, seed, !r.eng.NoExtents, pol.Tiers, size, down)
		predicted := man.ReadableWithout(failed)
		switch {
		case err == nil && !bytes.Equal(got, want):
			t.Fatalf("%s: read returned different bytes", name)
		case err != nil && !errors.Is(err, ErrUnreadable):
			t.Fatalf("%s: unexpected error %v", name, err)
		case (err == nil) != predicted:
			t.Fatalf("%s: read ok=%v, manifest predicted %v (%v)", name, err == nil, predicted, err)
		case pol.Promise(failed) && err != nil:
			t.Fatalf("%s: the policy promised this loss, read failed: %v", name, err)
		}
	}
}
