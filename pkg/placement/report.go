package placement

import "sort"

// Holding is what one store holds of an object.
type Holding struct {
	Store string `json:"store"`
	// Chunks lists the chunk indexes with a block (copy or shard) there.
	Chunks []int `json:"chunks"`
}

// Holdings reports which store holds which chunks of an object.
func (m *Manifest) Holdings() []Holding {
	by := map[string][]int{}
	for i, c := range m.Chunks {
		for _, b := range c.Blocks {
			if l := by[b.Store]; len(l) == 0 || l[len(l)-1] != i {
				by[b.Store] = append(by[b.Store], i)
			}
		}
	}
	var out []Holding
	for _, t := range m.Tiers {
		for _, s := range t.Stores {
			out = append(out, Holding{Store: s, Chunks: by[s]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Store < out[j].Store })
	return out
}

// ReadableWithout reports whether, by the manifest, every chunk can still
// be read when the failed stores are gone: a copy on a surviving store, or
// at least k shards. Only an actual read proves it.
func (m *Manifest) ReadableWithout(failed map[string]bool) bool {
	for _, c := range m.Chunks {
		alive := 0
		for _, b := range c.Blocks {
			if !failed[b.Store] {
				alive++
			}
		}
		need := 1
		if c.Erasure() {
			need = c.DataShards
		}
		if alive < need {
			return false
		}
	}
	return true
}

// Promise reports whether a policy promises to survive the loss of the
// failed stores, whatever an object's manifest says (before any degraded
// write): Mirror survives all but one store of a tier, Spread with k+m
// survives m, plain Spread survives none of its stores.
func (p Policy) Promise(failed map[string]bool) bool {
	for _, t := range p.Tiers {
		lost := 0
		for _, s := range t.Stores {
			if failed[s] {
				lost++
			}
		}
		switch {
		case lost == 0:
		case t.Placement == "Mirror":
			if lost == len(t.Stores) {
				return false
			}
		case t.ParityShards > 0:
			if lost > t.ParityShards {
				return false
			}
		default:
			return false
		}
	}
	return true
}
