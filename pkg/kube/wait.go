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

	"github.com/nbctl/nb/pkg/exitcode"
)

// Verdict is what a condition makes of an object's status.
type Verdict int

// Verdicts.
const (
	Waiting Verdict = iota
	Done
	Rejected
)

// Progress is the part of an object's status nb shows while it waits.
type Progress struct {
	Phase   string
	Reason  string
	Message string
	Mode    string
}

func (p Progress) String() string {
	s := p.Phase
	if s == "" {
		s = "(no phase yet)"
	}
	if p.Mode != "" {
		s += " [" + p.Mode + "]"
	}
	if p.Reason != "" {
		s += ": " + p.Reason
	}
	if p.Message != "" {
		s += " " + p.Message
	}
	return s
}

// Condition judges an object.
type Condition func(obj *unstructured.Unstructured) (Verdict, Progress)

func readProgress(obj *unstructured.Unstructured) Progress {
	p := Progress{}
	p.Phase, _, _ = unstructured.NestedString(obj.Object, "status", "phase")
	p.Mode, _, _ = unstructured.NestedString(obj.Object, "status", "mode", "modeCode")
	if p.Mode == "" {
		p.Mode, _, _ = unstructured.NestedString(obj.Object, "status", "mode")
	}
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	// The operator explains a phase on Available, and a rejection on
	// Degraded; prefer the one that says something.
	for _, want := range []string{"Degraded", "Available", "Progressing"} {
		for _, c := range conds {
			m, _ := c.(map[string]interface{})
			if m["type"] != want {
				continue
			}
			if want == "Degraded" && m["status"] != "True" {
				continue
			}
			reason, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			if reason != "" || msg != "" {
				p.Reason, p.Message = reason, msg
				return p
			}
		}
	}
	return p
}

// StoreReady is the condition of BackingStores and NamespaceStores: phase
// Ready with a mode that is no longer INITIALIZING (the operator can report
// Ready before the pool is usable), or Rejected.
func StoreReady(obj *unstructured.Unstructured) (Verdict, Progress) {
	p := readProgress(obj)
	switch {
	case p.Phase == "Rejected":
		return Rejected, p
	case p.Phase == "Ready" && p.Mode != "INITIALIZING":
		return Done, p
	}
	return Waiting, p
}

// BucketClassReady is the condition of BucketClasses.
func BucketClassReady(obj *unstructured.Unstructured) (Verdict, Progress) {
	p := readProgress(obj)
	switch p.Phase {
	case "Rejected":
		return Rejected, p
	case "Ready":
		return Done, p
	}
	return Waiting, p
}

// ClaimBound is the condition of ObjectBucketClaims. The provisioner
// never sets Failed on provisioning errors (it leaves the claim Pending and
// emits Warning events), so Failed only comes from other controllers.
func ClaimBound(obj *unstructured.Unstructured) (Verdict, Progress) {
	p := Progress{}
	p.Phase, _, _ = unstructured.NestedString(obj.Object, "status", "phase")
	switch p.Phase {
	case "Failed":
		return Rejected, p
	case "Bound":
		return Done, p
	}
	return Waiting, p
}

// WaitRequest names the object to wait for and how to judge it.
type WaitRequest struct {
	GVR       schema.GroupVersionResource
	Kind      string // for events: involvedObject.kind
	Noun      string // for messages: backingstore, obc...
	Namespace string
	Name      string
	Condition Condition
	// OnProgress is called with each new progress (phase, reason, mode).
	OnProgress func(Progress)
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
	var last Progress
	seen := false
	var warnings *warningWatch
	if req.Kind != "" {
		warnings = c.startWarnings(ctx, req, req.OnWarning)
		defer warnings.stop()
	}

	var verdict Verdict
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
		return v != Waiting, nil
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
	if verdict == Rejected {
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
