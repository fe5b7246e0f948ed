package localstate

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"

	"github.com/nbctl/nb/pkg/crdschema"
)

// Dynamic serves a Store through client-go's dynamic.Interface, so that
// code written for a cluster (pkg/kube) runs on the local target as it is.
// Objects of nb's CRDs are validated against their schemas, and fields the
// schema does not declare are pruned, as the API server does.
type Dynamic struct {
	Objects *DB
	Schemas *crdschema.Schemas
}

var _ dynamic.Interface = &Dynamic{}

// Resource implements dynamic.Interface.
func (d *Dynamic) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return &resource{d: d, gvr: gvr}
}

type resource struct {
	d   *Dynamic
	gvr schema.GroupVersionResource
	ns  string
}

func (r *resource) Namespace(ns string) dynamic.ResourceInterface {
	return &resource{d: r.d, gvr: r.gvr, ns: ns}
}

func noSubresource(subresources []string) error {
	if len(subresources) > 0 {
		return apierrors.NewBadRequest("subresource " + strings.Join(subresources, "/") + " is not served by the local target")
	}
	return nil
}

// admit validates and prunes an object of a known CRD, defaulting its
// namespace to the request's.
func (r *resource) admit(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	obj = obj.DeepCopy()
	if obj.GetNamespace() == "" {
		obj.SetNamespace(r.ns)
	}
	if r.ns != "" && obj.GetNamespace() != r.ns {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the namespace of the object (%s) does not match the namespace of the request (%s)", obj.GetNamespace(), r.ns))
	}
	if r.gvr.Group == "" && r.gvr.Resource == "secrets" {
		foldStringData(obj)
	}
	if r.d.Schemas != nil && r.d.Schemas.Has(obj.GroupVersionKind()) {
		if errs := r.d.Schemas.Validate(obj.Object); len(errs) > 0 {
			return nil, apierrors.NewInvalid(obj.GroupVersionKind().GroupKind(), obj.GetName(), errs)
		}
		if _, err := r.d.Schemas.Prune(obj.Object); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
	}
	return obj, nil
}

func isDryRun(dryRun []string) bool {
	for _, d := range dryRun {
		if d == metav1.DryRunAll {
			return true
		}
	}
	return false
}

func (r *resource) Create(ctx context.Context, obj *unstructured.Unstructured, opts metav1.CreateOptions, subresources ...string) (*unstructured.Unstructured, error) {
	if err := noSubresource(subresources); err != nil {
		return nil, err
	}
	obj, err := r.admit(obj)
	if err != nil {
		return nil, err
	}
	if isDryRun(opts.DryRun) {
		if _, err := r.d.Objects.Get(ctx, r.gvr, obj.GetNamespace(), obj.GetName()); err == nil {
			return nil, apierrors.NewAlreadyExists(r.gvr.GroupResource(), obj.GetName())
		}
		return obj, nil
	}
	return r.d.Objects.Create(ctx, r.gvr, obj)
}

func (r *resource) Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, subresources ...string) (*unstructured.Unstructured, error) {
	if len(subresources) == 1 && subresources[0] == "status" {
		return r.UpdateStatus(ctx, obj, opts)
	}
	if err := noSubresource(subresources); err != nil {
		return nil, err
	}
	obj, err := r.admit(obj)
	if err != nil {
		return nil, err
	}
	if isDryRun(opts.DryRun) {
		return obj, nil
	}
	return r.d.Objects.Update(ctx, r.gvr, obj)
}

func (r *resource) UpdateStatus(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions) (*unstructured.Unstructured, error) {
	obj, err := r.admit(obj)
	if err != nil {
		return nil, err
	}
	if isDryRun(opts.DryRun) {
		return obj, nil
	}
	return r.d.Objects.UpdateStatus(ctx, r.gvr, obj)
}

func (r *resource) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, subresources ...string) error {
	if err := noSubresource(subresources); err != nil {
		return err
	}
	uid := ""
	if opts.Preconditions != nil && opts.Preconditions.UID != nil {
		uid = string(*opts.Preconditions.UID)
	}
	if isDryRun(opts.DryRun) {
		_, err := r.d.Objects.Get(ctx, r.gvr, r.ns, name)
		return err
	}
	return r.d.Objects.Delete(ctx, r.gvr, r.ns, name, uid)
}

func (r *resource) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, listOpts metav1.ListOptions) error {
	list, err := r.List(ctx, listOpts)
	if err != nil {
		return err
	}
	for _, it := range list.Items {
		if err := r.d.Objects.Delete(ctx, r.gvr, it.GetNamespace(), it.GetName(), ""); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (r *resource) Get(ctx context.Context, name string, opts metav1.GetOptions, subresources ...string) (*unstructured.Unstructured, error) {
	if err := noSubresource(subresources); err != nil {
		return nil, err
	}
	return r.d.Objects.Get(ctx, r.gvr, r.ns, name)
}

func (r *resource) List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	match, err := selector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	list, err := r.d.Objects.List(ctx, r.gvr, r.ns)
	if err != nil {
		return nil, err
	}
	kept := list.Items[:0]
	for _, it := range list.Items {
		if match(&it) {
			kept = append(kept, it)
		}
	}
	list.Items = kept
	return list, nil
}

func (r *resource) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	match, err := selector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	w, err := r.d.Objects.Watch(ctx, r.gvr, WatchOptions{Namespace: r.ns, ResourceVersion: opts.ResourceVersion})
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		if u, ok := e.Object.(*unstructured.Unstructured); ok {
			return e, match(u)
		}
		return e, true
	}), nil
}

func (r *resource) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*unstructured.Unstructured, error) {
	status := len(subresources) == 1 && subresources[0] == "status"
	if !status {
		if err := noSubresource(subresources); err != nil {
			return nil, err
		}
	}
	if pt != types.MergePatchType {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("patch type %s is not served by the local target; use a merge patch", pt))
	}
	cur, err := r.d.Objects.Get(ctx, r.gvr, r.ns, name)
	if err != nil {
		return nil, err
	}
	raw, err := cur.MarshalJSON()
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	patched, err := jsonpatch.MergePatch(raw, data)
	if err != nil {
		return nil, apierrors.NewBadRequest("invalid merge patch: " + err.Error())
	}
	next, err := decode(patched)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	opt := metav1.UpdateOptions{DryRun: opts.DryRun, FieldManager: opts.FieldManager}
	if status {
		return r.UpdateStatus(ctx, next, opt)
	}
	return r.Update(ctx, next, opt)
}

// Apply is a server-side apply by one field manager, in the local store's
// terms (Store.Apply).
func (r *resource) Apply(ctx context.Context, name string, obj *unstructured.Unstructured, opts metav1.ApplyOptions, subresources ...string) (*unstructured.Unstructured, error) {
	if err := noSubresource(subresources); err != nil {
		return nil, err
	}
	obj, err := r.admit(obj)
	if err != nil {
		return nil, err
	}
	if name != obj.GetName() {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name of the request (%s)", obj.GetName(), name))
	}
	res, err := r.d.Objects.Apply(ctx, []ApplyItem{{GVR: r.gvr, Object: obj}}, isDryRun(opts.DryRun))
	if err != nil {
		return nil, err
	}
	return res[0].Object, nil
}

// Admit checks and prunes obj as a create or update of gvr would (the
// namespace defaulted to ns): what callers of Store.Apply run first.
func (d *Dynamic) Admit(gvr schema.GroupVersionResource, ns string, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r := &resource{d: d, gvr: gvr, ns: ns}
	return r.admit(obj)
}

func (r *resource) ApplyStatus(context.Context, string, *unstructured.Unstructured, metav1.ApplyOptions) (*unstructured.Unstructured, error) {
	return nil, apierrors.NewMethodNotSupported(r.gvr.GroupResource(), "apply")
}

// selector supports the field selectors nb uses: metadata.name,
// metadata.namespace, and for events involvedObject.name/kind and type.
func selector(s string) (func(*unstructured.Unstructured) bool, error) {
	if s == "" {
		return func(*unstructured.Unstructured) bool { return true }, nil
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, apierrors.NewBadRequest("invalid field selector: " + err.Error())
	}
	for _, req := range sel.Requirements() {
		switch req.Field {
		case "metadata.name", "metadata.namespace", "involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "type":
		default:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("field selector %q is not supported by the local target", req.Field))
		}
	}
	return func(u *unstructured.Unstructured) bool {
		str := func(path ...string) string { v, _, _ := unstructured.NestedString(u.Object, path...); return v }
		return sel.Matches(fields.Set{
			"metadata.name": u.GetName(), "metadata.namespace": u.GetNamespace(),
			"involvedObject.name": str("involvedObject", "name"), "involvedObject.kind": str("involvedObject", "kind"),
			"involvedObject.namespace": str("involvedObject", "namespace"), "type": str("type"),
		})
	}, nil
}

// foldStringData moves a Secret's stringData into data, base64-encoded,
// as the API server does on write.
func foldStringData(obj *unstructured.Unstructured) {
	sd, ok := obj.Object["stringData"].(map[string]interface{})
	if !ok {
		return
	}
	data, _ := obj.Object["data"].(map[string]interface{})
	if data == nil {
		data = map[string]interface{}{}
	}
	for k, v := range sd {
		if str, ok := v.(string); ok {
			data[k] = base64.StdEncoding.EncodeToString([]byte(str))
		}
	}
	obj.Object["data"] = data
	delete(obj.Object, "stringData")
}

// ApplyAll admits every object and applies them all in one transaction:
// all or nothing (pkg/kube uses it when the target can do so).
func (d *Dynamic) ApplyAll(ctx context.Context, gvrs []schema.GroupVersionResource, objs []*unstructured.Unstructured, dryRun bool) ([]*unstructured.Unstructured, []string, error) {
	items := make([]ApplyItem, len(objs))
	for i, o := range objs {
		admitted, err := d.Admit(gvrs[i], o.GetNamespace(), o)
		if err != nil {
			return nil, nil, err
		}
		items[i] = ApplyItem{GVR: gvrs[i], Object: admitted}
	}
	res, err := d.Objects.Apply(ctx, items, dryRun)
	if err != nil {
		return nil, nil, err
	}
	out, ops := make([]*unstructured.Unstructured, len(res)), make([]string, len(res))
	for i, r := range res {
		out[i], ops[i] = r.Object, r.Op
	}
	return out, ops, nil
}
