package reconciler

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/internal/versitygw"
	"github.com/nbctl/nb/pkg/localstate"
)

func newRec(t *testing.T) *Reconciler {
	t.Helper()
	dir := t.TempDir()
	s, err := localstate.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	return &Reconciler{Objects: s, DataDir: filepath.Join(dir, "data")}
}

func create(t *testing.T, r *Reconciler, gvr schema.GroupVersionResource, obj map[string]interface{}) {
	t.Helper()
	if _, err := r.Objects.Create(context.Background(), gvr, &unstructured.Unstructured{Object: obj}); err != nil {
		t.Fatal(err)
	}
}

func pvPool(name, size string) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"},
		"spec": map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{
			"numVolumes": int64(2), "resources": map[string]interface{}{"requests": map[string]interface{}{"storage": size}}}},
	}
}

func status(t *testing.T, r *Reconciler, gvr schema.GroupVersionResource, name string) (phase, mode, reason, message string) {
	t.Helper()
	obj, err := r.Objects.Get(context.Background(), gvr, "noobaa", name)
	if err != nil {
		t.Fatal(err)
	}
	phase, _, _ = unstructured.NestedString(obj.Object, "status", "phase")
	mode = nbv1.Mode(obj)
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m := c.(map[string]interface{})
		if m["type"] == "Available" {
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
		}
	}
	return
}

func pass(t *testing.T, r *Reconciler) {
	t.Helper()
	if err := r.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPVPoolCapacityModes(t *testing.T) {
	ctx := context.Background()
	r := newRec(t)
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv1", "1Mi"))
	pass(t, r)
	if p, m, reason, _ := status(t, r, nbv1.BackingStoreGVR, "pv1"); p != "Ready" || m != "OPTIMAL" || reason != "BackingStorePhaseReady" {
		t.Fatalf("fresh pv-pool: %s %s %s", p, m, reason)
	}
	obj, _ := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1")
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if len(conds) != 4 {
		t.Errorf("want the operator's 4 conditions, got %d", len(conds))
	}
	s, err := r.StoreFor(ctx, obj)
	if err != nil {
		t.Fatal(err)
	}
	// Fill to about 85% of the 2 MiB: LOW_CAPACITY, still Ready.
	for i := 0; i < 17; i++ {
		if err := s.Put(ctx, "fill/"+string(rune('a'+i)), make([]byte, 100<<10)); err != nil {
			break
		}
	}
	pass(t, r)
	if p, m, _, msg := status(t, r, nbv1.BackingStoreGVR, "pv1"); p != "Ready" || m != "LOW_CAPACITY" || !strings.Contains(msg, "% free") {
		t.Fatalf("nearly full: %s %s %q", p, m, msg)
	}
	// A one-volume pool filled to the byte: NO_CAPACITY, Rejected.
	full := pvPool("pv2", "1Mi")
	_ = unstructured.SetNestedField(full, int64(1), "spec", "pvPool", "numVolumes")
	create(t, r, nbv1.BackingStoreGVR, full)
	obj2, _ := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv2")
	s2, err := r.StoreFor(ctx, obj2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Put(ctx, "all", make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	pass(t, r)
	if p, m, _, _ := status(t, r, nbv1.BackingStoreGVR, "pv2"); p != "Rejected" || m != "NO_CAPACITY" {
		t.Fatalf("full: %s %s", p, m)
	}
}

func TestPassIsIdempotent(t *testing.T) {
	ctx := context.Background()
	r := newRec(t)
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv1", "1Gi"))
	pass(t, r)
	before, _ := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1")
	pass(t, r)
	after, _ := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1")
	if before.GetResourceVersion() != after.GetResourceVersion() {
		t.Errorf("a pass with nothing to change wrote the object (%s -> %s)", before.GetResourceVersion(), after.GetResourceVersion())
	}
	events, _ := r.Objects.List(ctx, eventGVR, "noobaa")
	if len(events.Items) != 1 {
		t.Errorf("want one phase event, got %d", len(events.Items))
	}
}

func s3Store(name, endpoint, bucket, secret string) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"},
		"spec": map[string]interface{}{"type": "s3-compatible", "s3Compatible": map[string]interface{}{
			"endpoint": endpoint, "targetBucket": bucket, "signatureVersion": "v4",
			"secret": map[string]interface{}{"name": secret, "namespace": "noobaa"}}},
	}
}

func secretObj(name string, data map[string]interface{}) map[string]interface{} {
	return map[string]interface{}{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"}, "stringData": data}
}

func TestS3StoresAgainstARealServer(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "target")
	r := newRec(t)
	create(t, r, secretGVR, secretObj("good", map[string]interface{}{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}))
	create(t, r, secretGVR, secretObj("bad", map[string]interface{}{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": "wrong"}))
	create(t, r, secretGVR, secretObj("alt", map[string]interface{}{"aws_access_key_id": srv.AccessKey, "aws_secret_access_key": srv.SecretKey}))
	create(t, r, nbv1.BackingStoreGVR, s3Store("ok", srv.Endpoint, "target", "good"))
	create(t, r, nbv1.BackingStoreGVR, s3Store("alt", srv.Endpoint, "target", "alt"))
	create(t, r, nbv1.BackingStoreGVR, s3Store("auth", srv.Endpoint, "target", "bad"))
	create(t, r, nbv1.BackingStoreGVR, s3Store("nobucket", srv.Endpoint, "missing", "good"))
	create(t, r, nbv1.BackingStoreGVR, s3Store("nosecret", srv.Endpoint, "target", "absent"))
	create(t, r, nbv1.BackingStoreGVR, s3Store("down", "http://127.0.0.1:1", "target", "good"))
	create(t, r, nbv1.BackingStoreGVR, map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": "az", "namespace": "noobaa"},
		"spec":     map[string]interface{}{"type": "azure-blob", "azureBlob": map[string]interface{}{"targetBlobContainer": "c"}},
	})
	pass(t, r)
	for name, want := range map[string][2]string{
		"ok": {"Ready", "OPTIMAL"}, "alt": {"Ready", "OPTIMAL"}, "auth": {"Rejected", "AUTH_FAILED"},
		"nobucket": {"Rejected", "STORAGE_NOT_EXIST"}, "nosecret": {"Rejected", ""}, "down": {"Rejected", "IO_ERRORS"},
		"az": {"Rejected", ""},
	} {
		p, m, reason, msg := status(t, r, nbv1.BackingStoreGVR, name)
		if p != want[0] || m != want[1] {
			t.Errorf("%s: %s/%s (%s: %s), want %s/%s", name, p, m, reason, msg, want[0], want[1])
		}
	}
	if _, _, reason, _ := status(t, r, nbv1.BackingStoreGVR, "nosecret"); reason != "MissingSecret" {
		t.Errorf("nosecret reason %q", reason)
	}
	if _, _, _, msg := status(t, r, nbv1.BackingStoreGVR, "az"); !strings.Contains(msg, "s3-compatible") {
		t.Errorf("azure must say what to use instead: %q", msg)
	}
	events, _ := r.Objects.List(context.Background(), eventGVR, "noobaa")
	warnings := 0
	for _, e := range events.Items {
		if e.Object["type"] == "Warning" {
			warnings++
		}
	}
	if warnings != 5 {
		t.Errorf("want a Warning event per rejected store, got %d", warnings)
	}
}

func TestBucketClassFollowsItsStores(t *testing.T) {
	r := newRec(t)
	class := func(name string, stores ...interface{}) map[string]interface{} {
		return map[string]interface{}{
			"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
			"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"},
			"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
				map[string]interface{}{"placement": "Mirror", "backingStores": stores}}}},
		}
	}
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv1", "1Gi"))
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv2", "1Gi"))
	create(t, r, nbv1.BackingStoreGVR, map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": "az", "namespace": "noobaa"},
		"spec":     map[string]interface{}{"type": "azure-blob", "azureBlob": map[string]interface{}{"targetBlobContainer": "c"}},
	})
	create(t, r, nbv1.BucketClassGVR, class("good", "pv1", "pv2"))
	create(t, r, nbv1.BucketClassGVR, class("missing", "pv1", "nope"))
	create(t, r, nbv1.BucketClassGVR, class("rejected", "pv1", "az"))
	pass(t, r)
	for name, want := range map[string][2]string{
		"good": {"Ready", "BucketClassPhaseReady"}, "missing": {"Rejected", "MissingBackingStore"}, "rejected": {"Rejected", "RejectedBackingStore"},
	} {
		if p, _, reason, _ := status(t, r, nbv1.BucketClassGVR, name); p != want[0] || reason != want[1] {
			t.Errorf("%s: %s/%s, want %v", name, p, reason, want)
		}
	}
}
