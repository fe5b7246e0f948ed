package placement

import (
	"math"
	"testing"
)

func TestPolicyFree(t *testing.T) {
	free := map[string]int64{"a": 10, "b": 30, "c": 60, "s3": -1}
	for _, c := range []struct {
		name  string
		pol   Policy
		want  int64
		known bool
	}{
		{"mirror takes the least", Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"b", "a", "c"}}}}, 10, true},
		{"spread adds up", Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"a", "b"}}}}, 40, true},
		{"erasure 2+1", Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"a", "b", "c"}, DataShards: 2, ParityShards: 1}}}, 66, true},
		{"tiers add up", Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"a", "b"}}, {Placement: "Spread", Stores: []string{"c"}}}}, 70, true},
		{"an S3 store is unbounded", Policy{Tiers: []Tier{{Placement: "Mirror", Stores: []string{"a", "s3"}}}}, 0, false},
		{"a missing store is unknown", Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"nope"}}}}, 0, false},
	} {
		if got, known := c.pol.Free(free); got != c.want || known != c.known {
			t.Errorf("%s: got %d %v, want %d %v", c.name, got, known, c.want, c.known)
		}
	}
	huge := map[string]int64{"a": math.MaxInt64, "b": math.MaxInt64}
	if got, _ := (Policy{Tiers: []Tier{{Placement: "Spread", Stores: []string{"a", "b"}}}}).Free(huge); got != math.MaxInt64 {
		t.Errorf("sum of huge stores: %d (wrapped?)", got)
	}
}
