package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/boltfile"
	"github.com/nbctl/nb/pkg/placement"
)

// RecoveredBucket is what RecoverBuckets did for one claim's bucket.
type RecoveredBucket struct {
	Claim     string `json:"claim"` // namespace/name
	Bucket    string `json:"bucket"`
	Class     string `json:"bucketClass"`
	Recreated bool   `json:"recreated"` // the bucket's record was missing
	placement.RecoverReport
	// Unreadable lists the stores that could not be opened: objects held
	// only there are not recovered.
	Unreadable []string `json:"unreadableStores,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// RecoverReport says what RecoverBuckets did.
type RecoverReport struct {
	// MovedAside names where a damaged buckets.db went, if it was.
	MovedAside string            `json:"movedAside,omitempty"`
	Buckets    []RecoveredBucket `json:"buckets"`
}

// RecoverBuckets rebuilds the data path's metadata from what survives:
// a damaged buckets.db is moved aside (a new one is made), every bound
// claim's bucket record is made again from the claim and its bucket class
// when missing, and each bucket's objects are rebuilt from the manifest
// copies on its stores (placement.Engine.Recover). The caller must own
// the data path (no nb serve running).
func (r *Reconciler) RecoverBuckets(ctx context.Context) (*RecoverReport, error) {
	rep := &RecoverReport{}
	r.data.mu.Lock()
	_, err := r.metaLocked()
	if boltfile.IsDamaged(err) {
		to, merr := boltfile.MoveAside(r.MetaPath(), r.now())
		if merr != nil {
			r.data.mu.Unlock()
			return nil, merr
		}
		rep.MovedAside = to
		_, err = r.metaLocked()
	}
	r.data.mu.Unlock()
	if err != nil {
		return nil, err
	}
	claims, err := r.Objects.List(ctx, obv1.ObjectBucketClaimGVR, "")
	if err != nil {
		return nil, err
	}
	sort.Slice(claims.Items, func(i, j int) bool {
		a, b := claims.Items[i], claims.Items[j]
		return a.GetNamespace()+"/"+a.GetName() < b.GetNamespace()+"/"+b.GetName()
	})
	for i := range claims.Items {
		obj := &claims.Items[i]
		bucket, _, _ := unstructured.NestedString(obj.Object, "spec", "bucketName")
		if phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); phase != "Bound" || bucket == "" {
			continue
		}
		rb := RecoveredBucket{Claim: obj.GetNamespace() + "/" + obj.GetName(), Bucket: bucket, Class: nbv1.ClaimClass(obj)}
		if err := r.recoverBucket(ctx, obj, &rb); err != nil {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rb.Error = err.Error()
		}
		rep.Buckets = append(rep.Buckets, rb)
	}
	return rep, nil
}

func (r *Reconciler) recoverBucket(ctx context.Context, claim *unstructured.Unstructured, rb *RecoveredBucket) error {
	sc, _, _ := unstructured.NestedString(claim.Object, "spec", "storageClassName")
	sysNS, _ := nbv1.SystemNamespace(sc)
	meta, err := r.Meta()
	if err != nil {
		return err
	}
	if _, err := meta.Bucket(rb.Bucket); errors.Is(err, placement.ErrNoBucket) {
		class, err := r.Objects.Get(ctx, nbv1.BucketClassGVR, sysNS, rb.Class)
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("bucket class %s/%s is gone: its placement is unknown", sysNS, rb.Class)
		}
		if err != nil {
			return err
		}
		var bc nbv1.BucketClass
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(class.Object, &bc); err != nil {
			return err
		}
		pol, err := placement.PolicyFromBucketClass(&bc)
		if err != nil {
			return err
		}
		if err := meta.PutBucket(placement.Bucket{Name: rb.Bucket, Policy: pol, Created: claim.GetCreationTimestamp().UTC(),
			Class: bc.Name, Generation: bc.GetGeneration(), Namespace: sysNS}); err != nil {
			return err
		}
		rb.Recreated = true
	} else if err != nil {
		return err
	}
	eng, unopened, err := r.OpenEngine(ctx, sysNS)
	if err != nil {
		return err
	}
	for name, err := range unopened {
		rb.Unreadable = append(rb.Unreadable, fmt.Sprintf("%s (%v)", name, err))
	}
	sort.Strings(rb.Unreadable)
	rep, err := eng.Recover(ctx, rb.Bucket)
	rb.RecoverReport = rep
	return err
}
