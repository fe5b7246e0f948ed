package localstate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

var bsGVR = schema.GroupVersionResource{Group: "noobaa.io", Version: "v1alpha1", Resource: "backingstores"}

func newBS(ns, name string, volumes int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": name, "namespace": ns},
		"spec":     map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{"numVolumes": volumes}},
	}}
}

func open(t testing.TB) *DB {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateSetsServerFields(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	a, err := s.Create(ctx, bsGVR, newBS("ns", "a", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Create(ctx, bsGVR, newBS("ns", "b", 1))
	if a.GetUID() == "" || a.GetUID() == b.GetUID() || a.GetGeneration() != 1 || a.GetCreationTimestamp().Time.IsZero() {
		t.Errorf("server fields: %v", a.Object["metadata"])
	}
	ra, _ := strconv.Atoi(a.GetResourceVersion())
	rb, _ := strconv.Atoi(b.GetResourceVersion())
	if rb <= ra {
		t.Errorf("resourceVersion must grow: %d then %d", ra, rb)
	}
	if _, err := s.Create(ctx, bsGVR, newBS("ns", "a", 1)); !apierrors.IsAlreadyExists(err) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := s.Get(ctx, bsGVR, "ns", "zzz"); !apierrors.IsNotFound(err) {
		t.Errorf("missing: %v", err)
	}
	got, err := s.Get(ctx, bsGVR, "ns", "a")
	if err != nil || got.GetUID() != a.GetUID() {
		t.Errorf("get: %v", err)
	}
	if n, _, _ := unstructured.NestedInt64(got.Object, "spec", "pvPool", "numVolumes"); n != 1 {
		t.Errorf("integers must stay int64: %v", got.Object["spec"])
	}
}

func TestUpdateSemantics(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	a, _ := s.Create(ctx, bsGVR, newBS("ns", "a", 1))

	withStatus := a.DeepCopy()
	withStatus.Object["status"] = map[string]interface{}{"phase": "Ready"}
	st, err := s.UpdateStatus(ctx, bsGVR, withStatus)
	if err != nil || st.GetGeneration() != 1 {
		t.Fatalf("status update: %v gen %d", err, st.GetGeneration())
	}

	// A plain update changes the spec (generation+1) and leaves status.
	spec := st.DeepCopy()
	_ = unstructured.SetNestedField(spec.Object, int64(3), "spec", "pvPool", "numVolumes")
	spec.Object["status"] = map[string]interface{}{"phase": "Hacked"}
	up, err := s.Update(ctx, bsGVR, spec)
	if err != nil {
		t.Fatal(err)
	}
	if up.GetGeneration() != 2 {
		t.Errorf("generation %d after a spec change", up.GetGeneration())
	}
	if p, _, _ := unstructured.NestedString(up.Object, "status", "phase"); p != "Ready" {
		t.Errorf("a plain update changed status to %q", p)
	}
	// A stale resourceVersion is a conflict.
	if _, err := s.Update(ctx, bsGVR, spec); !apierrors.IsConflict(err) {
		t.Errorf("stale update: %v", err)
	}
	// A status update does not bump the generation.
	again := up.DeepCopy()
	again.Object["status"] = map[string]interface{}{"phase": "Rejected"}
	st2, err := s.UpdateStatus(ctx, bsGVR, again)
	if err != nil || st2.GetGeneration() != 2 {
		t.Errorf("status update: %v gen %d", err, st2.GetGeneration())
	}
}

func TestFinalizersHoldDeletion(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	obj := newBS("ns", "a", 1)
	obj.SetFinalizers([]string{"noobaa.io/finalizer"})
	a, _ := s.Create(ctx, bsGVR, obj)
	if err := s.Delete(ctx, bsGVR, "ns", "a", "wrong-uid"); !apierrors.IsConflict(err) {
		t.Errorf("uid precondition: %v", err)
	}
	if err := s.Delete(ctx, bsGVR, "ns", "a", string(a.GetUID())); err != nil {
		t.Fatal(err)
	}
	held, err := s.Get(ctx, bsGVR, "ns", "a")
	if err != nil || held.GetDeletionTimestamp() == nil {
		t.Fatalf("a finalizer must hold the object: %v", err)
	}
	held.SetFinalizers(nil)
	if _, err := s.Update(ctx, bsGVR, held); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, bsGVR, "ns", "a"); !apierrors.IsNotFound(err) {
		t.Errorf("releasing the last finalizer must delete: %v", err)
	}
}

func TestListByNamespace(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for _, n := range []struct{ ns, name string }{{"a", "x"}, {"a", "y"}, {"b", "x"}, {"ab", "z"}} {
		if _, err := s.Create(ctx, bsGVR, newBS(n.ns, n.name, 1)); err != nil {
			t.Fatal(err)
		}
	}
	l, _ := s.List(ctx, bsGVR, "a")
	if len(l.Items) != 2 {
		t.Errorf("namespace a: %d items", len(l.Items))
	}
	l, _ = s.List(ctx, bsGVR, "")
	if len(l.Items) != 4 || l.GetResourceVersion() == "" {
		t.Errorf("all: %d items, rv %q", len(l.Items), l.GetResourceVersion())
	}
}

func TestWatchResumesAndFilters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := open(t)
	a, _ := s.Create(ctx, bsGVR, newBS("ns", "a", 1))
	w, err := s.Watch(ctx, bsGVR, WatchOptions{Namespace: "ns", Name: "a", ResourceVersion: a.GetResourceVersion()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	_, _ = s.Create(ctx, bsGVR, newBS("ns", "other", 1))
	st := a.DeepCopy()
	st.Object["status"] = map[string]interface{}{"phase": "Ready"}
	if _, err := s.UpdateStatus(ctx, bsGVR, st); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, bsGVR, "ns", "a", ""); err != nil {
		t.Fatal(err)
	}
	var got []watch.EventType
	for e := range w.ResultChan() {
		got = append(got, e.Type)
		if e.Object.(*unstructured.Unstructured).GetName() != "a" {
			t.Errorf("event for another object: %v", e)
		}
		if len(got) == 2 {
			break
		}
	}
	if fmt.Sprint(got) != "[MODIFIED DELETED]" {
		t.Errorf("events %v", got)
	}
}

func TestWatchFromAnExpiredVersionIsGone(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	for i := 0; i < eventLogSize+10; i++ {
		if _, err := s.Create(ctx, bsGVR, newBS("ns", fmt.Sprintf("o%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := s.Watch(ctx, bsGVR, WatchOptions{ResourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	e := <-w.ResultChan()
	if e.Type != watch.Error || !apierrors.IsResourceExpired(apierrors.FromObject(e.Object)) {
		t.Errorf("want 410 Gone, got %v %v", e.Type, e.Object)
	}
}

// TestConcurrentProcessesLoseNothing: 8 nb-like processes create, update
// and delete objects in one state file at once; every surviving object
// and every counter increment must be there.
func TestConcurrentProcessesLoseNothing(t *testing.T) {
	if os.Getenv("NB_STATE_CHILD") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), bsGVR, newBS("ns", "counter", 0)); err != nil {
		t.Fatal(err)
	}
	const procs, each = 8, 15
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStateChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "NB_STATE_CHILD="+dir, "NB_STATE_ID="+strconv.Itoa(p), "NB_STATE_N="+strconv.Itoa(each))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child %d: %v\n%s", p, err, out)
			}
		}(p)
	}
	wg.Wait()
	l, err := s.List(context.Background(), bsGVR, "ns")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1+procs*each {
		t.Errorf("%d objects, want %d", len(l.Items), 1+procs*each)
	}
	c, _ := s.Get(context.Background(), bsGVR, "ns", "counter")
	if n, _, _ := unstructured.NestedInt64(c.Object, "spec", "pvPool", "numVolumes"); n != procs*each {
		t.Errorf("counter %d, want %d: updates were lost", n, procs*each)
	}
}

// TestStateChild is one process of the concurrency test: it creates
// objects, deletes every other one it made plus a scratch object, and
// increments a shared counter with read-modify-write retried on conflict.
func TestStateChild(t *testing.T) {
	dir := os.Getenv("NB_STATE_CHILD")
	if dir == "" {
		t.Skip("run by TestConcurrentProcessesLoseNothing")
	}
	ctx := context.Background()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	id := os.Getenv("NB_STATE_ID")
	n, _ := strconv.Atoi(os.Getenv("NB_STATE_N"))
	for i := 0; i < n; i++ {
		if _, err := s.Create(ctx, bsGVR, newBS("ns", fmt.Sprintf("p%s-%d", id, i), 1)); err != nil {
			t.Fatal(err)
		}
		scratch := fmt.Sprintf("scratch-%s-%d", id, i)
		if _, err := s.Create(ctx, bsGVR, newBS("ns", scratch, 1)); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, bsGVR, "ns", scratch, ""); err != nil {
			t.Fatal(err)
		}
		for {
			c, err := s.Get(ctx, bsGVR, "ns", "counter")
			if err != nil {
				t.Fatal(err)
			}
			v, _, _ := unstructured.NestedInt64(c.Object, "spec", "pvPool", "numVolumes")
			_ = unstructured.SetNestedField(c.Object, v+1, "spec", "pvPool", "numVolumes")
			if _, err := s.Update(ctx, bsGVR, c); err == nil {
				break
			} else if !apierrors.IsConflict(err) {
				t.Fatal(err)
			}
		}
	}
}

// TestKilledWriterLeavesReadableState kills processes in the middle of
// their writes; the state must open and list every time.
func TestKilledWriterLeavesReadableState(t *testing.T) {
	if os.Getenv("NB_STATE_CHILD") != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(context.Background(), bsGVR, newBS("ns", "counter", 0)); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStateChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NB_STATE_CHILD="+dir, "NB_STATE_ID=k"+strconv.Itoa(round), "NB_STATE_N=100000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(100+round*60) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		l, err := s.List(context.Background(), bsGVR, "ns")
		if err != nil {
			t.Fatalf("round %d: state unreadable after a kill: %v", round, err)
		}
		c, err := s.Get(context.Background(), bsGVR, "ns", "counter")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := unstructured.NestedInt64(c.Object, "spec", "pvPool", "numVolumes"); !ok {
			t.Fatalf("round %d: counter torn", round)
		}
		t.Logf("round %d: %d objects", round, len(l.Items))
	}
}
