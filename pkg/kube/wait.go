package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/nbctl/nb/pkg/apis/status"
	"github.com/nbctl/nb/pkg/exitcode"
)

// Condition judges an object: the readiness rules of NooBaa's kinds are
// next to their API types (nbv1.StoreReady, nbv1.BucketClassReady,
// obv1.ClaimBound).
type Condition func(obj *unstructured.Unstructured) (status.Verdict, status.Progress)

// WaitRequest names the object to wait for and how to judge it.
type WaitRequest struct {
	GVR       schema.GroupVersionResource
	Kind      string // for events: involvedObject.kind
	Noun      string // for messages: backingstore, obc...
	Namespace string
	Name      string
	Condition Condition
	// OnProgress is called with each new progress (phase, reason, mode).
	OnProgress func(status.Progress)
	// OnWarning is called with each Warning event of the object.
	OnWarning func(reason, message string)
}

// Wait watches the object until the condition is met (the object is
// returned), it is rejected (a RejectedError), ctx times out (a
// TimeoutError naming the last phase and event) or is cancelled.
func (c *Client) Wait(ctx context.Context, req WaitRequest) (*unstructured.Unstructured, error) {
	defer c.runController(ctx)()
	lw := c.nameListWatch(req.GVR, req.Namespace, req.Name)

	var mu sync.Mutex
	var last status.Progress
	seen := false
	var warnings *warningWatch
	if req.Kind != "" {
		warnings = c.startWarnings(ctx, req, req.OnWarning)
		defer warnings.stop()
	}

	var verdict status.Verdict
	ev, err := watchtools.UntilWithSync(ctx, lw, &unstructured.Unstructured{}, nil, func(e watch.Event) (bool, error) {
		if e.Type == watch.Deleted {
			return false, fmt.Errorf("%s %q was deleted while nb waited for it", req.Noun, req.Name)
		}
		obj, ok := e.Object.(*unstructured.Unstructured)
		if !ok {
			return false, nil
		}
		v, p := req.Condition(obj)
		mu.Lock()
		changed := !seen || p != last
		seen, last = true, p
		mu.Unlock()
		if changed && req.OnProgress != nil {
			req.OnProgress(p)
		}
		verdict = v
		return v != status.Waiting, nil
	})
	mu.Lock()
	p := last
	mu.Unlock()
	event := warnings.last()
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			msg := fmt.Sprintf("timed out waiting for %s %q: last phase %s", req.Noun, req.Name, p)
			if event != "" {
				msg += "; last warning event " + event
			}
			return nil, &exitcode.TimeoutError{Err: errors.New(msg)}
		case errors.Is(ctx.Err(), context.Canceled):
			return nil, fmt.Errorf("stopped waiting for %s %q (it was left as it is, phase %s): %w", req.Noun, req.Name, p, context.Canceled)
		}
		return nil, c.Translate(err, Action{Verb: "watch", Resource: req.GVR.GroupResource(), Name: req.Name, Namespace: req.Namespace})
	}
	obj, _ := ev.Object.(*unstructured.Unstructured)
	if verdict == status.Rejected {
		detail := p.String()
		if event != "" && p.Reason == "" {
			detail += "; last warning event " + event
		}
		return obj, &exitcode.RejectedError{Err: fmt.Errorf("%s %q was rejected: %s", req.Noun, req.Name, detail)}
	}
	return obj, nil
}

// watchWarnings reports Warning events about the object until ctx ends.
// warningWatch follows an object's Warning events on a goroutine of its
// own while a wait runs (Wait and WaitGone): each goes to the caller's
// callback, and the last is kept for a timeout's message.
type warningWatch struct {
	mu     sync.Mutex
	event  string
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (c *Client) startWarnings(ctx context.Context, req WaitRequest, onWarning func(reason, msg string)) *warningWatch {
	w := &warningWatch{}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done.Add(1)
	go c.watchWarnings(ctx, &w.done, req, func(reason, msg string) {
		w.mu.Lock()
		w.event = reason + ": " + msg
		w.mu.Unlock()
		if onWarning != nil {
			onWarning(reason, msg)
		}
	})
	return w
}

// stop ends the watch; the callback is not called after it returns (the
// caller's callbacks must not outlive its wait).
func (w *warningWatch) stop() {
	w.cancel()
	w.done.Wait()
}

// last is the last warning, "reason: message", or "" (also for a nil watch).
func (w *warningWatch) last() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.event
}

func (c *Client) watchWarnings(ctx context.Context, done *sync.WaitGroup, req WaitRequest, report func(reason, msg string)) {
	defer done.Done()
	sel := fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", req.Name),
		fields.OneTermEqualSelector("involvedObject.kind", req.Kind),
		fields.OneTermEqualSelector("type", corev1.EventTypeWarning),
	).String()
	events := c.Watch.Resource(eventGVR).Namespace(req.Namespace)
	rv := ""
	for ctx.Err() == nil {
		w, err := events.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		c.forwardWarnings(ctx, w, &rv, report)
		w.Stop()
	}
}

func (c *Client) forwardWarnings(ctx context.Context, w watch.Interface, rv *string, report func(reason, msg string)) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.ResultChan():
			if !ok {
				return
			}
			u, isObject := e.Object.(*unstructured.Unstructured)
			if !isObject {
				continue
			}
			var ev corev1.Event
			if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &ev) != nil {
				continue
			}
			*rv = u.GetResourceVersion()
			if e.Type == watch.Added || e.Type == watch.Modified {
				report(ev.Reason, strings.TrimSpace(ev.Message))
			}
		}
	}
}

// nameListWatch lists and watches one object by name.
func (c *Client) nameListWatch(gvr schema.GroupVersionResource, ns, name string) cache.ListerWatcher {
	ri := c.Watch.Resource(gvr).Namespace(ns)
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = selector
			return ri.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = selector
			return ri.Watch(ctx, o)
		},
	}
}
