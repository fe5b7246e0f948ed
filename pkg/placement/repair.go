package placement

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// RepairReport says what a heal or scrub found and did.
type RepairReport struct {
	Objects       int `json:"objects"`
	BlocksChecked int `json:"blocksChecked"`
	// Repaired counts blocks re-created from a good copy or from parity.
	Repaired int `json:"repaired"`
	// Missing counts blocks that are still absent because their store is
	// down (heal again when it is back).
	Missing int `json:"missing"`
	// Lost lists objects with a chunk that no copy or parity can rebuild.
	Lost []string `json:"lost,omitempty"`
	// Healed lists objects that were degraded and now are not.
	Healed []string `json:"healed,omitempty"`
}

func (r *RepairReport) add(o RepairReport) {
	r.Objects += o.Objects
	r.BlocksChecked += o.BlocksChecked
	r.Repaired += o.Repaired
	r.Missing += o.Missing
	r.Lost = append(r.Lost, o.Lost...)
	r.Healed = append(r.Healed, o.Healed...)
}

// Heal re-creates the copies and shards that degraded objects of a bucket
// ("" for all) lack, on stores that are reachable again.
func (e *Engine) Heal(ctx context.Context, bucket string) (RepairReport, error) {
	return e.RepairBucket(ctx, bucket, RepairOptions{DegradedOnly: true})
}

// Scrub reads and verifies every block of every object of a bucket ("" for
// all), repairs what a good copy or parity can rebuild, reports the rest,
// and retries deleting the blocks of replaced versions.
func (e *Engine) Scrub(ctx context.Context, bucket string) (RepairReport, error) {
	rep, err := e.RepairBucket(ctx, bucket, RepairOptions{})
	if err == nil {
		err = e.CollectGarbage(ctx)
	}
	return rep, err
}

// RepairOptions say what RepairBucket visits and how it reports.
type RepairOptions struct {
	// DegradedOnly visits only objects written or left degraded (heal);
	// otherwise every object (scrub).
	DegradedOnly bool
	// Progress, when set, is called after each object with the objects
	// done and to do.
	Progress func(done, total int)
	// Pause, when set, is called between objects; an error stops the
	// repair (a server uses it to yield to S3 traffic).
	Pause func(ctx context.Context) error
	// Throttle, when set, is called with the bytes of every block read
	// (and, for a rebalance, of every object moved) and may wait: a server
	// bounds background I/O with it.
	Throttle func(ctx context.Context, n int) error
}

// RepairBucket repairs the objects of a bucket ("" for all) one by one.
// An object replaced or deleted while it was being repaired is skipped:
// its new version is the writer's, and its old blocks are garbage.
func (e *Engine) RepairBucket(ctx context.Context, bucket string, opt RepairOptions) (RepairReport, error) {
	list, err := e.Meta.List(bucket)
	if err != nil {
		return RepairReport{}, err
	}
	if opt.DegradedOnly {
		kept := list[:0]
		for _, man := range list {
			if man.Degraded {
				kept = append(kept, man)
			}
		}
		list = kept
	}
	var total RepairReport
	for i, man := range list {
		if opt.Pause != nil {
			if err := opt.Pause(ctx); err != nil {
				return total, err
			}
		}
		r, err := e.repair(ctx, man, opt.Throttle)
		switch {
		case errors.Is(err, ErrReplaced), errors.Is(err, ErrNoObject):
			r = RepairReport{}
		case err != nil:
			return total, err
		}
		total.add(r)
		if opt.Progress != nil {
			opt.Progress(i+1, len(list))
		}
	}
	return total, nil
}

// Repair verifies every block of one object and rebuilds what is missing
// or bad on the stores its policy names.
func (e *Engine) Repair(ctx context.Context, man *Manifest) (RepairReport, error) {
	return e.repair(ctx, man, nil)
}

func (e *Engine) repair(ctx context.Context, man *Manifest, throttle func(context.Context, int) error) (RepairReport, error) {
	rep := RepairReport{Objects: 1}
	changed := false
	complete := true
	name := man.Bucket + "/" + man.Key
	rs := e.newReadSession()
	defer rs.close()
	for i := range man.Chunks {
		c := &man.Chunks[i]
		good := make([]Block, 0, len(c.Blocks))
		var data []byte
		var shards [][]byte
		for _, b := range c.Blocks {
			rep.BlocksChecked++
			payload, err := e.readBlock(ctx, rs, b)
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if throttle != nil {
				if terr := throttle(ctx, b.Size); terr != nil {
					return rep, terr
				}
			}
			if err != nil {
				changed = true
				continue
			}
			good = append(good, b)
			if c.Erasure() {
				if shards == nil {
					shards = make([][]byte, c.DataShards+c.ParityShards)
				}
				shards[b.Shard] = payload
			} else if data == nil {
				data = payload
			}
		}
		c.Blocks = good
		var err error
		var ok bool
		if c.Erasure() {
			ok, err = e.repairShards(ctx, man, i, shards, &rep)
		} else {
			ok, err = e.repairCopies(ctx, man, i, data, &rep)
		}
		if err != nil {
			if errors.Is(err, ErrUnreadable) {
				if len(rep.Lost) == 0 { // an object is lost once, whatever its chunks
					rep.Lost = append(rep.Lost, name)
				}
				complete = false
				changed = true
				continue
			}
			return rep, err
		}
		if len(c.Blocks) != len(good) {
			changed = true
		}
		complete = complete && ok
	}
	if len(rep.Lost) > 0 {
		// Keep the blocks that remain: a store coming back may still hold
		// what is missing.
		return rep, nil
	}
	wasDegraded := man.Degraded
	man.Degraded = !complete
	if changed || wasDegraded != man.Degraded {
		unlock := e.Meta.lockObject(man.Bucket, man.Key)
		err := e.Meta.Update(man)
		if err == nil {
			err = e.writeManifestBlocks(ctx, man)
		}
		unlock()
		if err != nil {
			return rep, err
		}
	}
	if wasDegraded && !man.Degraded {
		rep.Healed = append(rep.Healed, name)
	}
	return rep, nil
}

// repairCopies puts a copy of a Mirror chunk on every store of its tier
// that lacks one (a Spread chunk has one copy: nothing to copy from).
func (e *Engine) repairCopies(ctx context.Context, man *Manifest, i int, data []byte, rep *RepairReport) (bool, error) {
	c := &man.Chunks[i]
	if data == nil {
		return false, fmt.Errorf("%w: chunk %d has no good copy", ErrUnreadable, i)
	}
	if c.Placement != "Mirror" {
		return true, nil
	}
	have := map[string]bool{}
	for _, b := range c.Blocks {
		have[b.Store] = true
	}
	block, _ := newBlock(data, kindData)
	complete := true
	for _, s := range man.Tiers[c.Tier].Stores {
		if have[s] {
			continue
		}
		key := blockKey(man.ObjectID, i, -1)
		if err := e.store(s).Put(ctx, key, block); err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			rep.Missing++
			complete = false
			continue
		}
		c.Blocks = append(c.Blocks, Block{Store: s, Key: key, Shard: -1, Size: len(data), CRC: c.CRC})
		rep.Repaired++
	}
	sort.Slice(c.Blocks, func(a, b int) bool { return c.Blocks[a].Store < c.Blocks[b].Store })
	return complete, nil
}

// repairShards rebuilds missing shards from any k good ones and writes
// them to stores of the tier that hold no shard of the chunk.
func (e *Engine) repairShards(ctx context.Context, man *Manifest, i int, shards [][]byte, rep *RepairReport) (bool, error) {
	c := &man.Chunks[i]
	k, m := c.DataShards, c.ParityShards
	if len(c.Blocks) < k {
		return false, fmt.Errorf("%w: chunk %d has %d of %d shards, %d needed", ErrUnreadable, i, len(c.Blocks), k+m, k)
	}
	if len(c.Blocks) == k+m {
		return true, nil
	}
	enc, err := e.coder(k, m)
	if err != nil {
		return false, err
	}
	if err := enc.Reconstruct(shards); err != nil {
		return false, fmt.Errorf("%w: rebuild chunk %d: %w", ErrUnreadable, i, err)
	}
	used := map[string]bool{}
	held := map[int]bool{}
	for _, b := range c.Blocks {
		used[b.Store] = true
		held[b.Shard] = true
	}
	complete := true
	for sh := 0; sh < k+m; sh++ {
		if held[sh] {
			continue
		}
		block, sum := newBlock(shards[sh], kindData)
		key := blockKey(man.ObjectID, i, sh)
		placed := false
		for _, s := range man.Tiers[c.Tier].Stores {
			if used[s] {
				continue
			}
			if err := e.store(s).Put(ctx, key, block); err != nil {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				continue
			}
			used[s] = true
			c.Blocks = append(c.Blocks, Block{Store: s, Key: key, Shard: sh, Size: len(shards[sh]), CRC: sum})
			rep.Repaired++
			placed = true
			break
		}
		if !placed {
			rep.Missing++
			complete = false
		}
	}
	sort.Slice(c.Blocks, func(a, b int) bool { return c.Blocks[a].Shard < c.Blocks[b].Shard })
	return complete, nil
}
