package placement

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
)

// ErasureAnnotation on a BucketClass asks nb's data path to erasure-code
// its Spread tiers, as "K+M" (e.g. "4+2"). The operator ignores it.
const ErasureAnnotation = "nb.noobaa.io/erasure-coding"

// Tier is one tier of a policy.
type Tier struct {
	// Placement is Mirror or Spread (a single store is Spread over one).
	Placement string   `json:"placement"`
	Stores    []string `json:"stores"`
	// DataShards and ParityShards erasure-code a Spread tier (0: off).
	DataShards   int `json:"k,omitempty"`
	ParityShards int `json:"m,omitempty"`
}

// Policy is how a bucket places data: one or two tiers; writes go to the
// first tier with room.
type Policy struct {
	Tiers []Tier
}

// PolicyFromBucketClass reads a placement BucketClass.
func PolicyFromBucketClass(bc *nbv1.BucketClass) (Policy, error) {
	if bc.Spec.PlacementPolicy == nil || len(bc.Spec.PlacementPolicy.Tiers) == 0 {
		return Policy{}, fmt.Errorf("bucketclass %q has no placement policy: the data path places data on backing stores only", bc.Name)
	}
	k, m, err := ParseErasure(bc.Annotations[ErasureAnnotation])
	if err != nil {
		return Policy{}, fmt.Errorf("bucketclass %q: annotation %s: %w", bc.Name, ErasureAnnotation, err)
	}
	var p Policy
	for _, t := range bc.Spec.PlacementPolicy.Tiers {
		tier := Tier{Placement: string(t.Placement), Stores: append([]string(nil), t.BackingStores...)}
		if tier.Placement == "" {
			tier.Placement = "Spread"
		}
		if tier.Placement == "Spread" && k > 0 {
			tier.DataShards, tier.ParityShards = k, m
		}
		p.Tiers = append(p.Tiers, tier)
	}
	return p, p.Validate()
}

// ParseErasure parses "K+M"; "" means no erasure coding.
func ParseErasure(s string) (k, m int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "+")
	if ok {
		k, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			m, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || k < 1 || m < 1 || k+m > MaxShards {
		return 0, 0, fmt.Errorf("invalid erasure coding %q: use K+M with K, M >= 1 and K+M <= %d, e.g. 4+2", s, MaxShards)
	}
	return k, m, nil
}

// Validate checks the policy's shape.
func (p Policy) Validate() error {
	if len(p.Tiers) < 1 || len(p.Tiers) > 2 {
		return fmt.Errorf("a policy has 1 or 2 tiers, not %d", len(p.Tiers))
	}
	seen := map[string]bool{}
	for i, t := range p.Tiers {
		if len(t.Stores) == 0 {
			return fmt.Errorf("tier %d has no stores", i+1)
		}
		for _, s := range t.Stores {
			if seen[s] {
				return fmt.Errorf("store %q is in more than one place of the policy", s)
			}
			seen[s] = true
		}
		switch t.Placement {
		case "Mirror":
			if t.ParityShards > 0 {
				return fmt.Errorf("tier %d: erasure coding applies to Spread tiers", i+1)
			}
		case "Spread":
			if t.ParityShards > 0 && t.DataShards+t.ParityShards > len(t.Stores) {
				return fmt.Errorf("tier %d: %d+%d erasure coding needs %d stores, the tier has %d",
					i+1, t.DataShards, t.ParityShards, t.DataShards+t.ParityShards, len(t.Stores))
			}
		default:
			return fmt.Errorf("tier %d: placement %q", i+1, t.Placement)
		}
	}
	return nil
}

// String says a policy in words, e.g. "Mirror over a,b".
func (p Policy) String() string {
	var parts []string
	for i, t := range p.Tiers {
		s := t.Placement + " over " + strings.Join(t.Stores, ",")
		if t.ParityShards > 0 {
			s += " (erasure-coded " + strconv.Itoa(t.DataShards) + "+" + strconv.Itoa(t.ParityShards) + ")"
		}
		if len(p.Tiers) > 1 {
			s = "tier " + strconv.Itoa(i+1) + ": " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Free is how many bytes of objects the policy can still take, given each
// store's free space (free[name] < 0: unknown, as for S3). Writes go to
// the first tier with room, so the tiers add up; a Mirror tier takes the
// least free of its stores (every copy needs room), a Spread tier the sum,
// an erasure-coded tier the sum times k/(k+m). known is false when a store
// of unknown size makes the answer unbounded, or a store is missing.
func (p Policy) Free(free map[string]int64) (n int64, known bool) {
	var total int64
	for _, t := range p.Tiers {
		var tier int64
		for i, s := range t.Stores {
			f, ok := free[s]
			if !ok || f < 0 {
				return 0, false
			}
			switch {
			case t.Placement == "Mirror" && (i == 0 || f < tier):
				tier = f
			case t.Placement != "Mirror":
				tier = addSat(tier, f)
			}
		}
		if t.ParityShards > 0 {
			tier = int64(float64(tier) * float64(t.DataShards) / float64(t.DataShards+t.ParityShards))
		}
		total = addSat(total, tier)
	}
	return total, true
}

// addSat adds two sizes that are not negative, stopping at MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
