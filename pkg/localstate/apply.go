package localstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
)

// ApplyItem is one object of an apply.
type ApplyItem struct {
	GVR    schema.GroupVersionResource
	Object *unstructured.Unstructured
}

// Apply outcomes, as kubectl prints them.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
)

// ApplyResult is what Apply did with one item.
type ApplyResult struct {
	Object *unstructured.Unstructured
	Op     string
}

var errDryRun = errors.New("dry run")

// Apply creates or updates every item in one transaction, so that either
// all of them are written or none is (what kubectl apply on a cluster
// cannot promise, and the local target can). An item that exists gets the
// applied object's top-level fields (spec, data, type...) in place of its
// own, and the applied labels and annotations merged over its own: what a
// server-side apply by a single field manager amounts to. Status, uid,
// finalizers and owner references stay the store's. With dryRun nothing
// is written and the results say what would have been.
func (s *DB) Apply(ctx context.Context, items []ApplyItem, dryRun bool) ([]ApplyResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	objs := make([]*unstructured.Unstructured, len(items))
	for i, it := range items {
		obj, err := canonical(it.Object)
		if err != nil {
			return nil, err
		}
		if obj.GetName() == "" {
			return nil, apierrors.NewBadRequest("metadata.name is required")
		}
		objs[i] = obj
	}
	var out []ApplyResult
	err := s.update(func(tx *bolt.Tx) error {
		out = out[:0]
		for i, it := range items {
			r, err := s.applyOne(tx, it.GVR, objs[i])
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return out, err
}

func (s *DB) applyOne(tx *bolt.Tx, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (ApplyResult, error) {
	key := objectKey(gvr, obj.GetNamespace(), obj.GetName())
	raw := tx.Bucket(bucketObjects).Get(key)
	if raw == nil {
		rv, err := nextRV(tx)
		if err != nil {
			return ApplyResult{}, err
		}
		next := obj.DeepCopy()
		delete(next.Object, "status")
		if err := setLastApplied(next, obj); err != nil {
			return ApplyResult{}, err
		}
		next.SetUID(types.UID(uuid.NewString()))
		next.SetResourceVersion(strconv.FormatUint(rv, 10))
		next.SetGeneration(1)
		next.SetCreationTimestamp(metav1.NewTime(s.Now().UTC().Truncate(time.Second)))
		next.SetDeletionTimestamp(nil)
		next.SetFinalizers(nil)
		next.SetOwnerReferences(nil)
		if err := put(tx, key, next); err != nil {
			return ApplyResult{}, err
		}
		return ApplyResult{Object: next, Op: Created}, logEvent(tx, rv, "ADDED", gvr, next)
	}
	cur, err := decode(raw)
	if err != nil {
		return ApplyResult{}, err
	}
	if cur.GetDeletionTimestamp() != nil {
		return ApplyResult{}, apierrors.NewConflict(gvr.GroupResource(), obj.GetName(), fmt.Errorf("it is being deleted (held by %v): wait until it is gone, then apply again", cur.GetFinalizers()))
	}
	next, err := threeWay(cur, obj)
	if err != nil {
		return ApplyResult{}, apierrors.NewBadRequest(fmt.Sprintf("apply %s: %v", obj.GetName(), err))
	}
	if !reflect.DeepEqual(cur.Object["spec"], next.Object["spec"]) {
		next.SetGeneration(cur.GetGeneration() + 1)
	}
	if reflect.DeepEqual(cur.Object, next.Object) {
		return ApplyResult{Object: cur, Op: Unchanged}, nil
	}
	rv, err := nextRV(tx)
	if err != nil {
		return ApplyResult{}, err
	}
	next.SetResourceVersion(strconv.FormatUint(rv, 10))
	if err := put(tx, key, next); err != nil {
		return ApplyResult{}, err
	}
	return ApplyResult{Object: next, Op: Configured}, logEvent(tx, rv, "MODIFIED", gvr, next)
}

// LastAppliedAnnotation holds what the last apply gave, as kubectl's
// kubectl.kubernetes.io/last-applied-configuration does: the next apply
// removes a field that was applied before and is not any more, and keeps
// the fields others set (a claim's bucketName, an owner's labels).
const LastAppliedAnnotation = "nb.noobaa.io/last-applied"

// applied is what an apply of obj says: its fields but status, and of
// its metadata only name, namespace, labels and annotations.
func appliedOf(obj *unstructured.Unstructured, digestSecrets bool) map[string]any {
	out := map[string]any{}
	for k, v := range obj.Object {
		if k != "status" && k != "metadata" {
			out[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	// A Secret's values stay out of the annotation, which anyone who may
	// read the object reads: a digest tells a change as well.
	if digestSecrets && obj.GetKind() == "Secret" && obj.GetAPIVersion() == "v1" {
		for _, field := range []string{"data", "stringData"} {
			if m, ok := out[field].(map[string]any); ok {
				for k, v := range m {
					sum := sha256.Sum256([]byte(fmt.Sprint(v)))
					m[k] = "sha256:" + hex.EncodeToString(sum[:])
				}
			}
		}
	}
	meta := map[string]any{"name": obj.GetName()}
	if ns := obj.GetNamespace(); ns != "" {
		meta["namespace"] = ns
	}
	if l := obj.GetLabels(); len(l) > 0 {
		meta["labels"] = toAny(l)
	}
	ann := obj.GetAnnotations()
	delete(ann, LastAppliedAnnotation)
	if len(ann) > 0 {
		meta["annotations"] = toAny(ann)
	}
	out["metadata"] = meta
	return out
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func setLastApplied(target, obj *unstructured.Unstructured) error {
	raw, err := json.Marshal(appliedOf(obj, true))
	if err != nil {
		return err
	}
	ann := target.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[LastAppliedAnnotation] = string(raw)
	target.SetAnnotations(ann)
	return nil
}

// threeWay merges an apply of obj into cur: the JSON merge patch from
// the last applied configuration to this one, computed against cur (what
// kubectl's client-side apply does for custom resources).
func threeWay(cur, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	original := []byte("{}")
	if last := cur.GetAnnotations()[LastAppliedAnnotation]; last != "" {
		original = []byte(last)
	}
	modified, err := json.Marshal(appliedOf(obj, false))
	if err != nil {
		return nil, err
	}
	current, err := json.Marshal(cur.Object)
	if err != nil {
		return nil, err
	}
	patch, err := jsonmergepatch.CreateThreeWayJSONMergePatch(original, modified, current)
	if err != nil {
		return nil, err
	}
	merged, err := jsonpatch.MergePatch(current, patch)
	if err != nil {
		return nil, err
	}
	next := &unstructured.Unstructured{}
	if err := next.UnmarshalJSON(merged); err != nil {
		return nil, err
	}
	if err := setLastApplied(next, obj); err != nil {
		return nil, err
	}
	return next, nil
}
