package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/outage"
)

// TestLocalCtrlCRestoresTheStores cancels a verify while a store is
// failed: the store must be back and the test object gone.
func TestLocalCtrlCRestoresTheStores(t *testing.T) {
	ctx := context.Background()
	cp, err := controlplane.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	create := func(gvr schema.GroupVersionResource, obj map[string]interface{}) {
		t.Helper()
		if _, err := cp.Objects.Create(ctx, gvr, &unstructured.Unstructured{Object: obj}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"pv1", "pv2"} {
		create(nbv1.BackingStoreGVR, map[string]interface{}{"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
			"metadata": map[string]interface{}{"name": n, "namespace": "noobaa"},
			"spec": map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{"numVolumes": int64(1),
				"resources": map[string]interface{}{"requests": map[string]interface{}{"storage": "1Gi"}}}}})
	}
	create(nbv1.BucketClassGVR, map[string]interface{}{"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "m", "namespace": "noobaa"},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "Mirror", "backingStores": []interface{}{"pv1", "pv2"}}}}}})
	create(obv1.ObjectBucketClaimGVR, map[string]interface{}{"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
		"metadata": map[string]interface{}{"name": "c", "namespace": "noobaa"},
		"spec":     map[string]interface{}{"storageClassName": "noobaa.noobaa.io", "additionalConfig": map[string]interface{}{"bucketclass": "m"}}})
	if err := cp.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cases := 0
	_, err = Local(cctx, cp, Input{Claim: "c", ClaimNamespace: "noobaa", Namespace: "noobaa", Size: 3 << 20, Seed: 1,
		OnCase: func([]string) {
			cases++
			if cases == 2 { // pv2 is about to fail: Ctrl-C
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	for _, n := range []string{"pv1", "pv2"} {
		root := cp.Reconciler.PVPoolDir("noobaa", n)
		if outage.IsDown(root) {
			t.Errorf("%s left failed after Ctrl-C", n)
		}
		files := 0
		_ = filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files++
			}
			return nil
		})
		if files != 0 {
			t.Errorf("%s still holds %d files of the test object after Ctrl-C", n, files)
		}
	}
}
