package localstate

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// PollInterval is how often a watch looks for new changes in the file
// (other nb processes may write it; there is no server to push them).
var PollInterval = 25 * time.Millisecond

// WatchOptions select what a watch reports.
type WatchOptions struct {
	Namespace string
	// Name, when set, limits the watch to one object.
	Name string
	// ResourceVersion resumes after that change; "" or "0" starts now,
	// with an ADDED event for every object that exists, as the API server
	// does ("get state and start at most recent").
	ResourceVersion string
}

type watcher struct {
	ch     chan watch.Event
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}
}

func (w *watcher) Stop() {
	w.once.Do(func() {
		w.cancel()
		<-w.done
	})
}

func (w *watcher) ResultChan() <-chan watch.Event { return w.ch }

// Watch reports changes to a resource. A resourceVersion older than the
// kept change log ends the watch with 410 Gone, as the API server does;
// clients then list again.
func (s *DB) Watch(ctx context.Context, gvr schema.GroupVersionResource, opts WatchOptions) (watch.Interface, error) {
	var from uint64
	var initial []*unstructured.Unstructured
	if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		v, err := strconv.ParseUint(opts.ResourceVersion, 10, 64)
		if err != nil {
			return nil, apierrors.NewBadRequest("invalid resourceVersion " + opts.ResourceVersion)
		}
		from = v
	} else {
		list, err := s.List(ctx, gvr, opts.Namespace)
		if err != nil {
			return nil, err
		}
		if from, err = strconv.ParseUint(list.GetResourceVersion(), 10, 64); err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		for i := range list.Items {
			if opts.Name == "" || list.Items[i].GetName() == opts.Name {
				initial = append(initial, &list.Items[i])
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{ch: make(chan watch.Event), cancel: cancel, done: make(chan struct{})}
	prefix := resourcePrefix(gvr)
	go func() {
		defer close(w.done)
		defer close(w.ch)
		for _, obj := range initial {
			select {
			case w.ch <- watch.Event{Type: watch.Added, Object: obj}:
			case <-ctx.Done():
				return
			}
		}
		t := time.NewTicker(PollInterval)
		defer t.Stop()
		for {
			events, gone, err := s.eventsAfter(from)
			if err != nil || gone {
				status := apierrors.NewResourceExpired("too old resource version")
				if err != nil {
					status = apierrors.NewInternalError(err)
				}
				st := status.Status()
				if gone {
					st.Code = http.StatusGone
				}
				select {
				case w.ch <- watch.Event{Type: watch.Error, Object: &st}:
				case <-ctx.Done():
				}
				return
			}
			for _, e := range events {
				from = e.rv
				if e.Resource != prefix {
					continue
				}
				obj, err := decode(e.Object)
				if err != nil {
					continue
				}
				if (opts.Namespace != "" && obj.GetNamespace() != opts.Namespace) || (opts.Name != "" && obj.GetName() != opts.Name) {
					continue
				}
				select {
				case w.ch <- watch.Event{Type: watch.EventType(e.Type), Object: obj}:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w, nil
}

// rawEvent is a logged change with its object left as JSON, decoded
// later as unstructured so that integers stay int64.
type rawEvent struct {
	Type     string          `json:"type"`
	Resource string          `json:"resource"`
	Object   json.RawMessage `json:"object"`
}

type loggedEvent struct {
	rawEvent
	rv uint64
}

// eventsAfter returns the changes after rv; gone reports that rv is older
// than the log keeps.
func (s *DB) eventsAfter(rv uint64) ([]loggedEvent, bool, error) {
	var out []loggedEvent
	gone := false
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		first, _ := c.First()
		if first != nil {
			oldest, _ := strconv.ParseUint(string(first), 10, 64)
			if rv+1 < oldest {
				gone = true
				return nil
			}
		}
		for k, v := c.Seek(rvKey(rv + 1)); k != nil; k, v = c.Next() {
			n, _ := strconv.ParseUint(string(k), 10, 64)
			var e rawEvent
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, loggedEvent{e, n})
		}
		return nil
	})
	return out, gone, err
}
