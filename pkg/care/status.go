package care

import (
	"context"

	"github.com/nbctl/nb/pkg/placement"
	"github.com/nbctl/nb/pkg/reconciler"
)

// Status is a bucket's health, as `noobaa obc status` shows a bucket's:
// what it holds, room left in its class, and its resiliency.
type Status struct {
	Bucket
	Policy string `json:"policy"`
	placement.Usage
	// Free is the room its class's stores have left (FreeKnown false: a
	// store of unknown size, such as S3, makes it unbounded).
	Free      int64          `json:"free"`
	FreeKnown bool           `json:"freeKnown"`
	Care      placement.Care `json:"care"`
}

// Optimal counts the objects with every copy or shard in place (and not
// found unreadable by the last scrub).
func (s Status) Optimal() int64 {
	n := s.Objects - s.Degraded
	if sc := s.Care.Scrub; sc != nil {
		n -= int64(sc.LostCount)
	}
	return max(n, 0)
}

// Statuses returns the health of the buckets keep selects (nil: all).
func Statuses(ctx context.Context, r *reconciler.Reconciler, keep func(Bucket) bool) ([]Status, error) {
	buckets, err := Buckets(ctx, r)
	if err != nil {
		return nil, err
	}
	meta, err := r.Meta()
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, b := range buckets {
		if keep != nil && !keep(b) {
			continue
		}
		st := Status{Bucket: b}
		rec, err := meta.Bucket(b.Name)
		if err != nil {
			return nil, err
		}
		st.Policy = rec.Policy.String()
		if st.Usage, err = meta.UsageOf(b.Name); err != nil {
			return nil, err
		}
		if st.Care, err = meta.CareOf(b.Name); err != nil {
			return nil, err
		}
		if eng, _, err := r.OpenEngineCached(ctx, b.Namespace); err == nil {
			st.Free, st.FreeKnown = rec.Policy.Free(eng.StoreFree(ctx, storesOf(rec.Policy)))
		}
		out = append(out, st)
	}
	return out, nil
}

func storesOf(p placement.Policy) []string {
	var out []string
	for _, t := range p.Tiers {
		out = append(out, t.Stores...)
	}
	return out
}
