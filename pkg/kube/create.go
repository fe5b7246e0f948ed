package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/exitcode"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// CreateRequest is a CR to create, with the Secret it references when nb
// creates that Secret too.
type CreateRequest struct {
	Secret *unstructured.Unstructured
	Object *unstructured.Unstructured
	GVR    schema.GroupVersionResource
	// Noun is the nb command noun (backingstore, obc...) for hints.
	Noun string
	// ServerDryRun sends both with DryRun=All: validated, not persisted.
	ServerDryRun bool
}

// CreateResult is what the API server returned.
type CreateResult struct {
	Secret *unstructured.Unstructured
	Object *unstructured.Unstructured
	// Warnings are problems that did not stop the create.
	Warnings []string
}

const fieldManager = "nb"

// Create creates the Secret, then the CR, then makes the CR the Secret's
// controller owner (so deleting the CR deletes the Secret). The Secret goes
// first so the operator finds it on its first reconcile; if the CR cannot
// be created the Secret is deleted again, so nothing is left half-done.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*CreateResult, error) {
	opts := metav1.CreateOptions{FieldManager: fieldManager}
	if req.ServerDryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	ns := req.Object.GetNamespace()
	res := &CreateResult{}
	if req.Secret != nil {
		s, err := c.createSecret(ctx, req, opts)
		if err != nil {
			return nil, err
		}
		res.Secret = s
	}
	obj, err := c.Dynamic.Resource(req.GVR).Namespace(ns).Create(ctx, req.Object, opts)
	if err != nil {
		err = c.createError(err, req)
		if res.Secret != nil && !req.ServerDryRun {
			if rbErr := c.deleteSecret(ctx, res.Secret); rbErr != nil {
				return nil, fmt.Errorf("%w (and the Secret %q nb created for it could not be deleted: %v; the next \"nb %s create\" of %q replaces it, and \"nb %s delete %s\" removes it)",
					err, res.Secret.GetName(), rbErr, req.Noun, req.Object.GetName(), req.Noun, req.Object.GetName())
			}
		}
		return nil, err
	}
	res.Object = obj
	if res.Secret != nil && !req.ServerDryRun {
		if err := c.ownSecret(ctx, res.Secret, obj); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the Secret %q has no owner reference to %s %q, so deleting the %s will not delete it: %v",
				res.Secret.GetName(), req.Noun, obj.GetName(), req.Noun, err))
		}
	}
	return res, nil
}

// createSecret creates req's Secret. A Secret of that name that nb made
// for this very store and that no store owns is what a failed create left
// (its rollback could not delete it): it is replaced, not an obstacle.
func (c *Client) createSecret(ctx context.Context, req CreateRequest, opts metav1.CreateOptions) (*unstructured.Unstructured, error) {
	ns, name := req.Object.GetNamespace(), req.Secret.GetName()
	s, err := c.Dynamic.Resource(secretGVR).Namespace(ns).Create(ctx, req.Secret, opts)
	if apierrors.IsAlreadyExists(err) {
		if s, err := c.replaceOrphanSecret(ctx, req, opts); err != nil || s != nil {
			return s, err
		}
		return nil, fmt.Errorf("secret %q already exists in namespace %q: inspect it with \"kubectl get secret %s -n %s\", then delete it or reuse it with --secret-name %s",
			name, ns, name, ns, name)
	}
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "create", Resource: secretGVR.GroupResource(), Name: name, Namespace: ns})
	}
	return s, nil
}

// OrphanSecret reports whether secret is one nb made for the store kind/name
// (AnnotationSecretFor) that no object owns.
func OrphanSecret(secret *unstructured.Unstructured, kind, name string) bool {
	return secret.GetAnnotations()[nbv1.AnnotationSecretFor] == kind+"/"+name && len(secret.GetOwnerReferences()) == 0
}

// DeleteOrphanSecrets deletes the Secrets of namespace ns that nb made for
// the store kind/name and that no object owns, and returns their names:
// what a failed create left behind for a store that does not exist.
func (c *Client) DeleteOrphanSecrets(ctx context.Context, ns, kind, name string) ([]string, error) {
	list, err := c.Dynamic.Resource(secretGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: nbv1.LabelApp + "=" + nbv1.LabelAppValue})
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "list", Resource: secretGVR.GroupResource(), Namespace: ns})
	}
	var deleted []string
	for i := range list.Items {
		sec := &list.Items[i]
		if !OrphanSecret(sec, kind, name) {
			continue
		}
		if err := c.deleteSecret(ctx, sec); err != nil {
			return deleted, c.Translate(err, Action{Verb: "delete", Resource: secretGVR.GroupResource(), Name: sec.GetName(), Namespace: ns})
		}
		deleted = append(deleted, sec.GetName())
	}
	return deleted, nil
}

// replaceOrphanSecret replaces an existing Secret of req's name with
// req.Secret when it is an orphan nb made for req.Object and that object
// does not exist; it returns nil, nil when the Secret is not such an
// orphan (then the caller reports the conflict).
func (c *Client) replaceOrphanSecret(ctx context.Context, req CreateRequest, opts metav1.CreateOptions) (*unstructured.Unstructured, error) {
	ns, name := req.Object.GetNamespace(), req.Secret.GetName()
	cur, err := c.Dynamic.Resource(secretGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil || !OrphanSecret(cur, req.Object.GetKind(), req.Object.GetName()) {
		return nil, nil
	}
	if _, err := c.Dynamic.Resource(req.GVR).Namespace(ns).Get(ctx, req.Object.GetName(), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return nil, nil // the store exists (the create fails on it), or cannot be told
	}
	next := req.Secret.DeepCopy()
	next.SetResourceVersion(cur.GetResourceVersion())
	next.SetUID(cur.GetUID())
	s, err := c.Dynamic.Resource(secretGVR).Namespace(ns).Update(ctx, next, metav1.UpdateOptions{FieldManager: fieldManager, DryRun: opts.DryRun})
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "replace", Resource: secretGVR.GroupResource(), Name: name, Namespace: ns})
	}
	return s, nil
}

func (c *Client) createError(err error, req CreateRequest) error {
	name, ns := req.Object.GetName(), req.Object.GetNamespace()
	if apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%s %q already exists in namespace %q: inspect it with \"nb %s status %s -n %s\", or delete it first",
			req.Noun, name, ns, req.Noun, name, ns)
	}
	return c.Translate(err, Action{Verb: "create", Resource: req.GVR.GroupResource(), Name: name, Namespace: ns})
}

// deleteSecret rolls back a Secret nb created, even after Ctrl-C.
func (c *Client) deleteSecret(ctx context.Context, s *unstructured.Unstructured) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	uid := s.GetUID()
	err := c.Dynamic.Resource(secretGVR).Namespace(s.GetNamespace()).Delete(ctx, s.GetName(),
		metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Client) ownSecret(ctx context.Context, secret, owner *unstructured.Unstructured) error {
	refs := []interface{}{map[string]interface{}{
		"apiVersion": owner.GetAPIVersion(), "kind": owner.GetKind(), "name": owner.GetName(),
		"uid": string(owner.GetUID()), "controller": true, "blockOwnerDeletion": true,
	}}
	patch := map[string]interface{}{"metadata": map[string]interface{}{
		"ownerReferences": refs, "resourceVersion": secret.GetResourceVersion(),
	}}
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err = c.Dynamic.Resource(secretGVR).Namespace(secret.GetNamespace()).Patch(ctx, secret.GetName(), types.MergePatchType, raw, metav1.PatchOptions{FieldManager: fieldManager})
	return err
}

// System returns the NooBaa system CR of a namespace; a nil object and nil
// error mean there is none (or its CRD is not installed).
func (c *Client) System(ctx context.Context, ns string) (*unstructured.Unstructured, error) {
	sys, err := c.Dynamic.Resource(nbv1.NooBaaGVR).Namespace(ns).Get(ctx, nbv1.SystemName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		err = c.Translate(err, Action{Verb: "get", Resource: nbv1.NooBaaGVR.GroupResource(), Name: nbv1.SystemName, Namespace: ns})
		if errors.Is(err, ErrNotInstalled) {
			return nil, nil
		}
		return nil, err
	}
	return sys, nil
}

// SetControllerOwner makes owner the controller of obj, as the operator's
// CLI does with the NooBaa system CR for stores and classes.
func SetControllerOwner(obj, owner *unstructured.Unstructured) {
	t := true
	obj.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Name: owner.GetName(), UID: owner.GetUID(),
		Controller: &t, BlockOwnerDeletion: &t,
	}})
}

// NoSystemWarning is the warning printed when a namespace has no NooBaa.
func NoSystemWarning(ns string) string {
	return fmt.Sprintf("no NooBaa system %q in namespace %q: the operator will not reconcile this until one exists (is -n right?)", nbv1.SystemName, ns)
}

// Kind returns "noun/name" as kubectl prints it, e.g. backingstore.noobaa.io/aws1.
func Kind(gvr schema.GroupVersionResource, name string) string {
	r := strings.TrimSuffix(gvr.Resource, "s")
	if strings.HasSuffix(gvr.Resource, "sses") {
		r = strings.TrimSuffix(gvr.Resource, "es")
	}
	if gvr.Group != "" {
		r += "." + gvr.Group
	}
	return r + "/" + name
}

// CheckSecretKeys verifies that an existing Secret holds every key, as the
// operator requires of a Secret reused with --secret-name.
func (c *Client) CheckSecretKeys(ctx context.Context, ns, name string, keys []string) error {
	s, err := c.Secret(ctx, ns, name)
	if err != nil {
		return err
	}
	if s == nil {
		return exitcode.Usagef("--secret-name", "secret %q does not exist in namespace %q: create it first, or leave --secret-name out to have nb create one", name, ns)
	}
	var missing []string
	for _, k := range keys {
		if len(s.Data[k]) == 0 && s.StringData[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return exitcode.Usagef("--secret-name", "secret %q lacks %s: add the keys, or leave --secret-name out to have nb create the Secret", name, strings.Join(missing, ", "))
	}
	return nil
}
