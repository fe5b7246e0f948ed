// Package care keeps the local target's data healthy, as NooBaa's core
// does on a cluster: heal (re-create the copies and shards degraded
// objects lack once their stores are back), scrub (read every block,
// repair what copies or parity can rebuild, report what cannot), and
// collect (blocks of deleted and replaced versions, multipart uploads
// abandoned for too long). nb serve runs it in the background (Loop);
// `nb bucket heal|scrub|gc` runs it on demand. Outcomes are recorded per
// bucket (placement.Meta.RecordCare) and as events on the bucket's claim.
package care

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/placement"
	"github.com/nbctl/nb/pkg/reconciler"
)

// Kinds of care.
const (
	Heal  = "heal"
	Scrub = "scrub"
	GC    = "gc"
	// Rebalance re-places the objects a class change left where the
	// class no longer says (placement.Engine.Rebalance).
	Rebalance = "rebalance"
)

// Bucket is a bucket of the data path and who it belongs to.
type Bucket struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"` // NooBaa's, whose stores hold it
	Class     string `json:"bucketClass,omitempty"`
	// Claim is "namespace/name" of the claim that owns it; empty for a
	// bucket made over S3 (Owner is then the account's access key).
	Claim string `json:"claim,omitempty"`
	Owner string `json:"-"`
	// claim is the claim object, for events.
	claim *unstructured.Unstructured
}

// Buckets lists the data path's buckets with their claims.
func Buckets(ctx context.Context, r *reconciler.Reconciler) ([]Bucket, error) {
	meta, err := r.Meta()
	if err != nil {
		return nil, err
	}
	recs, err := meta.Buckets()
	if err != nil {
		return nil, err
	}
	claims, err := r.Objects.List(ctx, obv1.ObjectBucketClaimGVR, "")
	if err != nil {
		return nil, err
	}
	byBucket := map[string]*unstructured.Unstructured{}
	for i := range claims.Items {
		c := &claims.Items[i]
		if b, _, _ := unstructured.NestedString(c.Object, "spec", "bucketName"); b != "" {
			byBucket[b] = c
		}
	}
	out := make([]Bucket, 0, len(recs))
	for _, rec := range recs {
		b := Bucket{Name: rec.Name, Namespace: rec.Namespace, Class: rec.Class, Owner: rec.Owner}
		if c := byBucket[rec.Name]; c != nil {
			b.Claim, b.claim = c.GetNamespace()+"/"+c.GetName(), c
			if b.Namespace == "" {
				sc, _, _ := unstructured.NestedString(c.Object, "spec", "storageClassName")
				b.Namespace, _ = nbv1.SystemNamespace(sc)
			}
		}
		if b.Namespace == "" {
			continue // neither a claim nor a namespace: not placed anywhere nb knows
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Find returns the bucket of a claim (namespace/name) or of that name.
func Find(ctx context.Context, r *reconciler.Reconciler, claimNS, name string) (Bucket, error) {
	all, err := Buckets(ctx, r)
	if err != nil {
		return Bucket{}, err
	}
	for _, b := range all {
		if b.Claim == claimNS+"/"+name {
			return b, nil
		}
	}
	for _, b := range all {
		if b.Name == name {
			return b, nil
		}
	}
	return Bucket{}, fmt.Errorf("no claim %q in namespace %q and no bucket %q: list them with \"nb bucket list\"", name, claimNS, name)
}

// Options tune a run of care.
type Options struct {
	// Progress reports objects done and to do (heal and scrub).
	Progress func(done, total int)
	// Pause runs between objects (a server yields to S3 traffic there).
	Pause func(ctx context.Context) error
	// Throttle bounds the bytes heal, scrub and rebalance read (see
	// placement.RepairOptions.Throttle).
	Throttle func(ctx context.Context, n int) error
	// UploadAge: multipart uploads initiated longer ago are aborted by gc.
	UploadAge time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// Report is what one run of care did for one bucket.
type Report struct {
	Bucket Bucket `json:"bucket"`
	Kind   string `json:"kind"`
	placement.RepairReport
	// AbortedUploads counts the stale multipart uploads gc aborted.
	AbortedUploads int `json:"abortedUploads,omitempty"`
	// Rebalance is what a rebalance did.
	Rebalance *placement.RebalanceReport `json:"rebalance,omitempty"`
	// Compaction is what gc did to packs that were mostly dead.
	Compaction *placement.CompactReport `json:"compaction,omitempty"`
}

// Lost reports whether the run found objects it could not rebuild.
func (r Report) Lost() bool { return len(r.RepairReport.Lost) > 0 }

// Do runs one kind of care on one bucket, records the outcome and, when
// it changed something or found loss, says so in an event on the claim.
func Do(ctx context.Context, r *reconciler.Reconciler, b Bucket, kind string, opt Options) (Report, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	rep := Report{Bucket: b, Kind: kind}
	eng, _, err := r.OpenEngineCached(ctx, b.Namespace)
	if err != nil {
		return rep, err
	}
	switch kind {
	case Heal, Scrub:
		rep.RepairReport, err = eng.RepairBucket(ctx, b.Name, placement.RepairOptions{DegradedOnly: kind == Heal, Progress: opt.Progress, Pause: opt.Pause, Throttle: opt.Throttle})
		if err != nil {
			return rep, err
		}
		if err := eng.Meta.RecordCare(b.Name, kind, rep.RepairReport, now()); err != nil {
			return rep, err
		}
	case Rebalance:
		rec, err := eng.Meta.Bucket(b.Name)
		if err != nil {
			return rep, err
		}
		rb, err := eng.Rebalance(ctx, b.Name, rec.Policy, placement.RepairOptions{Progress: opt.Progress, Pause: opt.Pause, Throttle: opt.Throttle})
		rep.Rebalance = &rb
		if err != nil {
			return rep, err
		}
	case GC:
		if opt.UploadAge > 0 {
			if rep.AbortedUploads, err = eng.AbortStaleUploads(ctx, b.Name, now().Add(-opt.UploadAge)); err != nil {
				return rep, err
			}
		}
		if err := eng.CollectGarbage(ctx); err != nil {
			return rep, err
		}
		cp, err := eng.CompactPacks(ctx, b.Name, placement.RepairOptions{Pause: opt.Pause, Throttle: opt.Throttle})
		if cp.Packs > 0 {
			rep.Compaction = &cp
		}
		if err != nil {
			return rep, err
		}
	default:
		return rep, fmt.Errorf("unknown care %q: heal, scrub, rebalance or gc", kind)
	}
	report(ctx, r, rep)
	return rep, nil
}

// report turns a run into an event on the bucket's claim when there is
// something to say.
func report(ctx context.Context, r *reconciler.Reconciler, rep Report) {
	if rep.Bucket.claim == nil {
		return
	}
	var typ, reason, msg string
	switch {
	case rep.Lost():
		typ, reason = "Warning", "DataLost"
		msg = fmt.Sprintf("%s found %d object(s) that no copy or parity can rebuild: %s", rep.Kind, len(rep.RepairReport.Lost), strings.Join(rep.RepairReport.Lost[:min(5, len(rep.RepairReport.Lost))], ", "))
	case len(rep.Healed) > 0 || rep.Repaired > 0:
		typ, reason = "Normal", "Repaired"
		msg = fmt.Sprintf("%s repaired %d block(s); %d object(s) no longer degraded", rep.Kind, rep.Repaired, len(rep.Healed))
	case rep.Rebalance != nil && len(rep.Rebalance.Unreadable) > 0:
		typ, reason = "Warning", "RebalanceIncomplete"
		msg = fmt.Sprintf("%d object(s) could not be moved to follow the bucket class (they stay where they are): %s", len(rep.Rebalance.Unreadable), strings.Join(rep.Rebalance.Unreadable[:min(3, len(rep.Rebalance.Unreadable))], "; "))
	case rep.Rebalance != nil && rep.Rebalance.Moved > 0:
		typ, reason = "Normal", "Rebalanced"
		msg = fmt.Sprintf("%d object(s) moved to follow the bucket class; %d of %d placed as it says", rep.Rebalance.Moved, rep.Rebalance.Moved+rep.Rebalance.Placed, rep.Rebalance.Objects)
	case rep.AbortedUploads > 0:
		typ, reason = "Normal", "UploadsAborted"
		msg = fmt.Sprintf("gc aborted %d multipart upload(s) left incomplete", rep.AbortedUploads)
	default:
		return
	}
	_ = r.Event(ctx, rep.Bucket.claim, "ObjectBucketClaim", typ, reason, msg)
}
