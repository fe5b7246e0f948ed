package placement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// RebalanceReport says what a rebalance of a bucket did.
type RebalanceReport struct {
	// Objects counts the bucket's objects; Placed those already placed
	// as the policy says; Moved those re-placed now.
	Objects int `json:"objects"`
	Placed  int `json:"placed"`
	Moved   int `json:"moved"`
	// Skipped were replaced or deleted while being moved (the writer's
	// version is placed by the policy already).
	Skipped int `json:"skipped"`
	// Unreadable are objects that could not be read to be moved, with
	// why (such as their only copy on a store that is down): they stay
	// where they are, and a later rebalance tries again.
	Unreadable []string `json:"unreadable,omitempty"`
}

// Misplaced reports whether an object was written with other tiers than
// the policy's: it is to be moved to follow its bucket's class.
func Misplaced(man *Manifest, pol Policy) bool {
	return !reflect.DeepEqual(normalTiers(man.Tiers), normalTiers(pol.Tiers))
}

func normalTiers(ts []Tier) []Tier {
	out := make([]Tier, len(ts))
	for i, t := range ts {
		out[i] = Tier{Placement: t.Placement, Stores: append([]string{}, t.Stores...), DataShards: t.DataShards, ParityShards: t.ParityShards}
	}
	return out
}

// Rebalance re-places the objects of bucket that its policy no longer
// describes, one at a time, while they stay readable: each is read and
// written again under the policy as a new version of the same key (same
// bytes, attributes, parts and Last-Modified), committed only if the
// object did not change meanwhile. The old version's blocks are then
// garbage, deleted after the new version is durable on the policy's
// stores (a store that is down keeps them until it is back). Progress,
// when set, hears of every object.
func (e *Engine) Rebalance(ctx context.Context, bucket string, pol Policy, opt RepairOptions) (RebalanceReport, error) {
	var rep RebalanceReport
	list, err := e.Meta.List(bucket)
	if err != nil {
		return rep, err
	}
	rep.Objects = len(list)
	for i, man := range list {
		if opt.Pause != nil {
			if err := opt.Pause(ctx); err != nil {
				return rep, err
			}
		}
		switch {
		case !Misplaced(man, pol):
			rep.Placed++
		default:
			if opt.Throttle != nil {
				if err := opt.Throttle(ctx, int(min(man.Size, 1<<40))); err != nil {
					return rep, err
				}
			}
			if err := tally(ctx, e.replace(ctx, man, pol), man.Key, &rep.Moved, &rep.Skipped, &rep.Unreadable); err != nil {
				return rep, err
			}
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(list))
		}
	}
	return rep, nil
}

// tally counts the outcome err of a replace of the object name: moved,
// skipped (replaced or deleted meanwhile) or unreadable, with why. It
// returns the context's error once the context is done.
func tally(ctx context.Context, err error, name string, moved, skipped *int, unreadable *[]string) error {
	switch {
	case err == nil:
		*moved++
	case errors.Is(err, ErrReplaced), errors.Is(err, ErrNoObject):
		*skipped++
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		*unreadable = append(*unreadable, fmt.Sprintf("%s: %v", name, err))
	}
	return nil
}

// replace writes man's object again under pol, as described at Rebalance.
func (e *Engine) replace(ctx context.Context, man *Manifest, pol Policy) error {
	rr, err := e.OpenRange(ctx, man, 0, man.Size)
	if err != nil {
		return err
	}
	defer rr.Close()
	pr, pw := io.Pipe()
	go func() {
		_, err := rr.WriteTo(pw)
		pw.CloseWithError(err)
	}()
	size := man.Size
	_, err = e.PutWith(ctx, man.Bucket, man.Key, pol, pr, PutOptions{
		Attrs: man.Attrs, NoSHA256: man.SHA256 == "", Created: man.Created, Parts: man.Parts, Length: &size,
		Precondition: func(cur *Manifest) error {
			// A tag change meanwhile (Rev) would be lost with the old
			// attributes: the object is moved on a later pass.
			if cur == nil || cur.ObjectID != man.ObjectID || cur.Rev != man.Rev {
				return ErrReplaced
			}
			return nil
		},
	})
	pr.CloseWithError(errors.New("rebalance ended"))
	return err
}
