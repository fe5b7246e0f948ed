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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/nbctl/nb/pkg/exitcode"
)

var (
	configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	eventGVR     = schema.GroupVersionResource{Version: "v1", Resource: "events"}
)

// getTyped reads a core object into out; a missing object leaves out as
// it is and is no error.
func (c *Client) getTyped(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, out interface{}) error {
	u, err := c.Dynamic.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return c.Translate(err, Action{Verb: "get", Resource: gvr.GroupResource(), Name: name, Namespace: ns})
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out); err != nil {
		return fmt.Errorf("%s %q: %w", gvr.Resource, name, err)
	}
	return nil
}

// ErrNotFound marks an object that does not exist.
var ErrNotFound = errors.New("not found")

// Get reads one object; a missing object is an error wrapping ErrNotFound
// that names it and says how to list what exists.
func (c *Client) Get(ctx context.Context, gvr schema.GroupVersionResource, noun, ns, name string) (*unstructured.Unstructured, error) {
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
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
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
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
	s := &corev1.Secret{}
	if err := c.getTyped(ctx, secretGVR, ns, name, s); err != nil || s.Name == "" {
		return nil, err
	}
	return s, nil
}

// ConfigMap reads a ConfigMap; nil, nil when it does not exist.
func (c *Client) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm := &corev1.ConfigMap{}
	if err := c.getTyped(ctx, configMapGVR, ns, name, cm); err != nil || cm.Name == "" {
		return nil, err
	}
	return cm, nil
}

// Events returns the events of an object, oldest first.
func (c *Client) Events(ctx context.Context, ns, kind, name string) ([]corev1.Event, error) {
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", name),
		fields.OneTermEqualSelector("involvedObject.kind", kind),
	).String()
	list, err := c.Dynamic.Resource(eventGVR).Namespace(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return nil, c.Translate(err, Action{Verb: "list", Resource: eventGVR.GroupResource(), Namespace: ns})
	}
	items := make([]corev1.Event, 0, len(list.Items))
	for _, u := range list.Items {
		var e corev1.Event
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &e); err != nil {
			return nil, fmt.Errorf("event %s: %w", u.GetName(), err)
		}
		items = append(items, e)
	}
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

// WaitGone watches until the object is gone (its finalizers released),
// reporting its Warning events to onWarning (may be nil). On timeout the
// error names the finalizers still holding it and the last warning.
func (c *Client) WaitGone(ctx context.Context, gvr schema.GroupVersionResource, noun string, obj *unstructured.Unstructured, onWarning func(reason, msg string)) error {
	defer c.runController(ctx)()
	warnings := c.startWarnings(ctx, WaitRequest{Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}, onWarning)
	defer warnings.stop()
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
		if event := warnings.last(); event != "" {
			return &exitcode.TimeoutError{Err: fmt.Errorf("timed out waiting for %s %q to go: finalizers [%s] still hold it; last warning event %s",
				noun, obj.GetName(), strings.Join(last.GetFinalizers(), ", "), event)}
		}
		return &exitcode.TimeoutError{Err: fmt.Errorf("timed out waiting for %s %q to go: finalizers [%s] still hold it (is the operator running?)",
			noun, obj.GetName(), strings.Join(last.GetFinalizers(), ", "))}
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("stopped waiting for %s %q to go (its deletion goes on): %w", noun, obj.GetName(), context.Canceled)
	}
	return c.Translate(err, Action{Verb: "watch", Resource: gvr.GroupResource(), Name: obj.GetName(), Namespace: obj.GetNamespace()})
}
