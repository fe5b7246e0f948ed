package reconciler

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/placement"
)

// NooBaaFinalizer is the operator's finalizer on stores and classes.
const NooBaaFinalizer = "noobaa.io/finalizer"

func hasFinalizer(obj *unstructured.Unstructured, f string) bool {
	return slices.Contains(obj.GetFinalizers(), f)
}

func addFinalizer(obj *unstructured.Unstructured, f string) {
	if !hasFinalizer(obj, f) {
		obj.SetFinalizers(append(obj.GetFinalizers(), f))
	}
}

func removeFinalizer(obj *unstructured.Unstructured, f string) {
	obj.SetFinalizers(slices.DeleteFunc(obj.GetFinalizers(), func(s string) bool { return s == f }))
}

// adopt gives a store or class the operator's finalizer and app label
// (EnsureCommonMetaFields) and returns the updated object.
func (r *Reconciler) adopt(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if hasFinalizer(obj, NooBaaFinalizer) && obj.GetLabels()["app"] == "noobaa" {
		return obj, nil
	}
	next := obj.DeepCopy()
	addFinalizer(next, NooBaaFinalizer)
	labels := next.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app"] = "noobaa"
	next.SetLabels(labels)
	return r.Objects.Update(ctx, gvr, next)
}

// removeFinalizer releases obj from finalizer f (the store then deletes
// it if it is being deleted).
func (r *Reconciler) removeFinalizer(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, f string) error {
	next := obj.DeepCopy()
	removeFinalizer(next, f)
	_, err := r.Objects.Update(ctx, gvr, next)
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// bucketsUsing lists the bound buckets (their ObjectBuckets) whose class,
// in namespace ns, is class (when store is "") or places data on store.
func (r *Reconciler) bucketsUsing(ctx context.Context, ns, class, store string) ([]string, error) {
	obs, err := r.Objects.List(ctx, obv1.ObjectBucketGVR, "")
	if err != nil {
		return nil, err
	}
	var users []string
	for _, ob := range obs.Items {
		sc, _, _ := unstructured.NestedString(ob.Object, "spec", "storageClassName")
		if sys, ok := nbv1.SystemNamespace(sc); !ok || sys != ns {
			continue
		}
		bcName, _, _ := unstructured.NestedString(ob.Object, "spec", "additionalState", "bucketclass")
		if store == "" {
			if bcName == class {
				users = append(users, ob.GetName())
			}
			continue
		}
		bc, err := r.Objects.Get(ctx, nbv1.BucketClassGVR, ns, bcName)
		if err != nil {
			continue
		}
		if backing, _ := nbv1.StoresUsedBy(bc); slices.Contains(backing, store) {
			users = append(users, ob.GetName())
		}
	}
	// Buckets created over S3 (nb serve) have no claim.
	meta, err := r.Meta()
	if err != nil {
		return nil, err
	}
	recs, err := meta.Buckets()
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		if rec.Owner == "" || rec.Namespace != ns {
			continue
		}
		uses := rec.Class == class
		if store != "" {
			uses = slices.ContainsFunc(rec.Policy.Tiers, func(t placement.Tier) bool { return slices.Contains(t.Stores, store) })
		}
		if uses {
			users = append(users, "bucket "+rec.Name)
		}
	}
	return users, nil
}

// finalizeStore lets a deleted store go unless a bucket still uses it;
// a pv-pool's volumes are removed with it, as the operator removes its
// PVCs. An S3 store's target bucket is left as it is.
func (r *Reconciler) finalizeStore(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, kind string) error {
	if !hasFinalizer(obj, NooBaaFinalizer) {
		return nil
	}
	if gvr == nbv1.BackingStoreGVR {
		users, err := r.bucketsUsing(ctx, obj.GetNamespace(), "", obj.GetName())
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return r.inUse(ctx, gvr, obj, kind, users)
		}
		r.forgetStore(obj.GetNamespace(), obj.GetName())
		if typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); typ == string(nbv1.StoreTypePVPool) {
			if err := os.RemoveAll(r.PVPoolDir(obj.GetNamespace(), obj.GetName())); err != nil {
				return fmt.Errorf("removing the volumes: %w", err)
			}
		}
	}
	return r.removeFinalizer(ctx, gvr, obj, NooBaaFinalizer)
}

// finalizeClass lets a deleted class go once no bucket uses it.
func (r *Reconciler) finalizeClass(ctx context.Context, obj *unstructured.Unstructured) error {
	if !hasFinalizer(obj, NooBaaFinalizer) {
		return nil
	}
	users, err := r.bucketsUsing(ctx, obj.GetNamespace(), obj.GetName(), "")
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return r.inUse(ctx, nbv1.BucketClassGVR, obj, "BucketClass", users)
	}
	return r.removeFinalizer(ctx, nbv1.BucketClassGVR, obj, NooBaaFinalizer)
}

// inUse keeps a deleted object in phase Deleting with a Warning event
// naming the buckets that hold it.
func (r *Reconciler) inUse(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, kind string, users []string) error {
	o := outcome{phase: "Deleting", mode: nbv1.Mode(obj), reason: "InUse",
		message: fmt.Sprintf("%s is used by bucket(s) of %s: delete those claims first (nb obc delete)", strings.ToLower(spaced(kind)), strings.Join(users, ", "))}
	if err := r.setStatus(ctx, gvr, obj, o, gvr != nbv1.BucketClassGVR, kind); err != nil {
		return err
	}
	return r.eventOnce(ctx, obj, kind, "Warning", kind+"InUse", o.message)
}

// eventOnce records an event unless the object already has one with the
// same type, reason and message.
func (r *Reconciler) eventOnce(ctx context.Context, obj *unstructured.Unstructured, kind, typ, reason, msg string) error {
	events, err := r.Objects.List(ctx, eventGVR, obj.GetNamespace())
	if err != nil {
		return err
	}
	for _, e := range events.Items {
		uid, _, _ := unstructured.NestedString(e.Object, "involvedObject", "uid")
		t, _, _ := unstructured.NestedString(e.Object, "type")
		rs, _, _ := unstructured.NestedString(e.Object, "reason")
		m, _, _ := unstructured.NestedString(e.Object, "message")
		if uid == string(obj.GetUID()) && t == typ && rs == reason && m == msg {
			return nil
		}
	}
	return r.event(ctx, obj, kind, typ, reason, msg)
}

// collectOrphans deletes what Kubernetes' garbage collector would: the
// Secrets, ConfigMaps and Events of objects that are gone.
func (r *Reconciler) collectOrphans(ctx context.Context) error {
	live := map[string]bool{}
	for _, gvr := range []schema.GroupVersionResource{nbv1.BackingStoreGVR, nbv1.NamespaceStoreGVR, nbv1.BucketClassGVR, obv1.ObjectBucketClaimGVR} {
		list, err := r.Objects.List(ctx, gvr, "")
		if err != nil {
			return err
		}
		for _, o := range list.Items {
			live[string(o.GetUID())] = true
		}
	}
	for _, gvr := range []schema.GroupVersionResource{secretGVR, configMapGVR} {
		list, err := r.Objects.List(ctx, gvr, "")
		if err != nil {
			return err
		}
		for _, o := range list.Items {
			refs := o.GetOwnerReferences()
			if len(refs) == 0 || len(o.GetFinalizers()) > 0 {
				continue
			}
			orphan := true
			for _, ref := range refs {
				if !ours(ref.Kind) || live[string(ref.UID)] {
					orphan = false
				}
			}
			if orphan {
				if err := r.Objects.Delete(ctx, gvr, o.GetNamespace(), o.GetName(), string(o.GetUID())); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
		}
	}
	events, err := r.Objects.List(ctx, eventGVR, "")
	if err != nil {
		return err
	}
	for _, e := range events.Items {
		kind, _, _ := unstructured.NestedString(e.Object, "involvedObject", "kind")
		uid, _, _ := unstructured.NestedString(e.Object, "involvedObject", "uid")
		if ours(kind) && uid != "" && !live[uid] {
			if err := r.Objects.Delete(ctx, eventGVR, e.GetNamespace(), e.GetName(), ""); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

func ours(kind string) bool {
	switch kind {
	case "BackingStore", "NamespaceStore", "BucketClass", "ObjectBucketClaim":
		return true
	}
	return false
}
