package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/nbctl/nb/pkg/exitcode"
)

// ErrNotFound marks an object that does not exist.
var ErrNotFound = errors.New("not found")

// Get reads one object; a missing object is an error wrapping ErrNotFound
// that names it and says how to list what exists.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, noun, ns, name string) (*unstructured.Unstructured, error) {
	obj, err := c.Dynamic.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && !isMissingResource(err.(apierrors.APIStatus).Status(), Action{Verb: "get"}) {
		return nil, fmt.Errorf("%w: %s %q in namespace %q: list them with \"nb %s list -n %s\"", ErrNotFound, noun, name, ns, noun, ns)
	}
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "get", Resource: gvr.GroupResource(), Name: name, Namespace: ns})
	}
	return obj, nil
}

// List reads every object of a resource in ns ("" for all namespaces),
// sorted by namespace and name.
func (c *Client) List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]unstructured.Unstructured, error) {
	list, err := c.Dynamic.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "list", Resource: gvr.GroupResource(), Namespace: ns})
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].GetNamespace() != items[j].GetNamespace() {
			return items[i].GetNamespace() < items[j].GetNamespace()
		}
		return items[i].GetName() < items[j].GetName()
	})
	return items, nil
}

// Secret reads a Secret; nil, nil when it does not exist.
func (c *Client) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	s, err := c.Core.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "get", Resource: secretGVR.GroupResource(), Name: name, Namespace: ns})
	}
	return s, nil
}

// ConfigMap reads a ConfigMap; nil, nil when it does not exist.
func (c *Client) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm, err := c.Core.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "get", Resource: schema.GroupResource{Resource: "configmaps"}, Name: name, Namespace: ns})
	}
	return cm, nil
}

// Events returns the events of an object, oldest first.
func (c *Client) Events(ctx context.Context, ns, kind, name string) ([]corev1.Event, error) {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", name),
		fields.OneTermEqualSelector("involvedObject.kind", kind),
	).String()
	list, err := c.Core.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "list", Resource: schema.GroupResource{Resource: "events"}, Namespace: ns})
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return eventTime(items[i]).Time.Before(eventTime(items[j]).Time) })
	return items, nil
}

func eventTime(e corev1.Event) metav1.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp
	}
	if !e.EventTime.IsZero() {
		return metav1.NewTime(e.EventTime.Time)
	}
	return e.CreationTimestamp
}

// EventTime is when an event last happened.
func EventTime(e corev1.Event) metav1.Time { return eventTime(e) }

// Delete deletes the object with this UID (so a newer object of the same
// name is never deleted by mistake).
func (c *Client) Delete(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	uid := obj.GetUID()
	err := c.Dynamic.Resource(gvr).Namespace(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return c.Translate(err, Action{Verb: "delete", Resource: gvr.GroupResource(), Name: obj.GetName(), Namespace: obj.GetNamespace()})
}

// WaitGone watches until the object is gone (its finalizers released). On
// timeout the error names the finalizers still holding it.
func (c *Client) WaitGone(ctx context.Context, gvr schema.GroupVersionResource, noun string, obj *unstructured.Unstructured) error {
	lw := c.nameListWatch(gvr, obj.GetNamespace(), obj.GetName())
	last := obj
	gone := func(store cache.Store) (bool, error) {
		for _, o := range store.List() {
			if u, ok := o.(*unstructured.Unstructured); ok && u.GetUID() == obj.GetUID() {
				return false, nil
			}
		}
		return true, nil
	}
	_, err := watchtools.UntilWithSync(ctx, lw, &unstructured.Unstructured{}, gone, func(e watch.Event) (bool, error) {
		u, ok := e.Object.(*unstructured.Unstructured)
		if !ok || u.GetUID() != obj.GetUID() {
			return false, nil
		}
		if e.Type == watch.Deleted {
			return true, nil
		}
		last = u
		return false, nil
	})
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &exitcode.TimeoutError{Err: fmt.Errorf("timed out waiting for %s %q to go: finalizers [%s] still hold it (is the operator running?)",
			noun, obj.GetName(), strings.Join(last.GetFinalizers(), ", "))}
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("stopped waiting for %s %q to go (its deletion goes on): %w", noun, obj.GetName(), context.Canceled)
	}
	return c.Translate(err, Action{Verb: "watch", Resource: gvr.GroupResource(), Name: obj.GetName(), Namespace: obj.GetNamespace()})
}
