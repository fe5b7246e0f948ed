package kube

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ApplyItem is one object of an apply and its resource.
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

// ApplyResult is what an apply did with one object.
type ApplyResult struct {
	Object *unstructured.Unstructured
	Op     string
}

// batchApplier is a target that applies many objects in one transaction
// (the local target's dynamic client).
type batchApplier interface {
	ApplyAll(ctx context.Context, gvrs []schema.GroupVersionResource, objs []*unstructured.Unstructured, dryRun bool) ([]*unstructured.Unstructured, []string, error)
}

// ApplyOptions are how Apply applies.
type ApplyOptions struct {
	// DryRun sends every object with DryRun=All (validated, not written).
	DryRun bool
	// Force takes over fields another field manager owns (kubectl's
	// --force-conflicts).
	Force bool
}

// Apply creates or updates items in order with kubectl apply's semantics:
// a server-side apply with field manager nb on a cluster, where the items
// go one by one; on a target that can (the local one), all in one
// transaction, so that nothing is written unless everything is.
func (c *Client) Apply(ctx context.Context, items []ApplyItem, opt ApplyOptions) ([]ApplyResult, error) {
	if ba, ok := c.Dynamic.(batchApplier); ok {
		gvrs := make([]schema.GroupVersionResource, len(items))
		objs := make([]*unstructured.Unstructured, len(items))
		for i, it := range items {
			gvrs[i], objs[i] = it.GVR, it.Object
		}
		out, ops, err := ba.ApplyAll(ctx, gvrs, objs, opt.DryRun)
		if err != nil {
			return nil, c.Translate(err, Action{Verb: "apply"})
		}
		res := make([]ApplyResult, len(out))
		for i := range out {
			res[i] = ApplyResult{Object: out[i], Op: ops[i]}
		}
		return res, nil
	}
	var res []ApplyResult
	for _, it := range items {
		r, err := c.applyOne(ctx, it, opt)
		if err != nil {
			return res, err
		}
		res = append(res, r)
	}
	return res, nil
}

func (c *Client) applyOne(ctx context.Context, it ApplyItem, opt ApplyOptions) (ApplyResult, error) {
	ns, name := it.Object.GetNamespace(), it.Object.GetName()
	ri := c.Dynamic.Resource(it.GVR).Namespace(ns)
	act := Action{Verb: "apply", Resource: it.GVR.GroupResource(), Name: name, Namespace: ns}
	before, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return ApplyResult{}, c.Translate(err, act)
	}
	if apierrors.IsNotFound(err) {
		before = nil
	}
	obj := it.Object.DeepCopy()
	// A server-side apply takes no resourceVersion, status or managed
	// fields from the caller.
	obj.SetResourceVersion("")
	obj.SetManagedFields(nil)
	delete(obj.Object, "status")
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: opt.Force}
	if opt.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	after, err := ri.Apply(ctx, name, obj, opts)
	if apierrors.IsConflict(err) {
		return ApplyResult{}, fmt.Errorf("%s %q in namespace %q: %v: another field manager owns those fields; pass --force-conflicts to take them over", it.Object.GetKind(), name, ns, err)
	}
	if err != nil {
		return ApplyResult{}, c.Translate(err, act)
	}
	op := Configured
	switch {
	case before == nil:
		op = Created
	case before.GetResourceVersion() == after.GetResourceVersion():
		op = Unchanged
	}
	return ApplyResult{Object: after, Op: op}, nil
}
