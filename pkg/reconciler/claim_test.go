package reconciler

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/placement"
)

func mirrorClass(name string, stores ...string) map[string]interface{} {
	var list []interface{}
	for _, s := range stores {
		list = append(list, s)
	}
	return map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "Mirror", "backingStores": list}}}},
	}
}

func claimObj(name, class, generate string) map[string]interface{} {
	spec := map[string]interface{}{"storageClassName": "noobaa.noobaa.io", "additionalConfig": map[string]interface{}{"bucketclass": class}}
	if generate != "" {
		spec["generateBucketName"] = generate
	}
	return map[string]interface{}{
		"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
		"metadata": map[string]interface{}{"name": name, "namespace": "app"},
		"spec":     spec,
	}
}

func warnings(t *testing.T, r *Reconciler, ns, name string) []string {
	t.Helper()
	events, err := r.Objects.List(context.Background(), eventGVR, ns)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events.Items {
		n, _, _ := unstructured.NestedString(e.Object, "involvedObject", "name")
		typ, _, _ := unstructured.NestedString(e.Object, "type")
		if n == name && typ == "Warning" {
			reason, _, _ := unstructured.NestedString(e.Object, "reason")
			msg, _, _ := unstructured.NestedString(e.Object, "message")
			out = append(out, reason+": "+msg)
		}
	}
	return out
}

func TestClaimLifecycle(t *testing.T) {
	ctx := context.Background()
	r := newRec(t)

	// A claim whose class does not exist yet: Pending, one Warning.
	create(t, r, obv1.ObjectBucketClaimGVR, claimObj("photos", "mirror", "photos-bucket-with-a-very-long-prefix"))
	pass(t, r)
	pass(t, r)
	claim, err := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "photos")
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := unstructured.NestedString(claim.Object, "status", "phase"); p != "Pending" {
		t.Fatalf("claim without a class: phase %q", p)
	}
	if w := warnings(t, r, "app", "photos"); len(w) != 1 || !strings.HasPrefix(w[0], `MissingBucketClass: BucketClass "mirror" not found`) {
		t.Fatalf("warnings: %q", w)
	}

	// The class over a store that is not there: class Rejected, claim
	// Pending with BucketClassNotReady.
	create(t, r, nbv1.BucketClassGVR, mirrorClass("mirror", "pv1", "pv2"))
	pass(t, r)
	if w := warnings(t, r, "app", "photos"); len(w) != 2 || !slices.Contains(w, `BucketClassNotReady: BucketClass "mirror" is not ready`) {
		t.Fatalf("warnings: %q", w)
	}

	// Stores arrive: the class is Ready and the claim Bound.
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv1", "1Gi"))
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv2", "1Gi"))
	pass(t, r)
	claim, _ = r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "photos")
	if p, _, _ := unstructured.NestedString(claim.Object, "status", "phase"); p != "Bound" {
		t.Fatalf("claim with a ready class: phase %q", p)
	}
	bucket, _, _ := unstructured.NestedString(claim.Object, "spec", "bucketName")
	if !regexp.MustCompile(`^photos-bucket-with-a-very--[0-9a-f-]{36}$`).MatchString(bucket) {
		t.Fatalf("generated bucket name %q: want the prefix cut to 26 characters, a dash and a UUID", bucket)
	}
	if ob, _, _ := unstructured.NestedString(claim.Object, "spec", "objectBucketName"); ob != "obc-app-photos" {
		t.Errorf("objectBucketName %q", ob)
	}
	if !hasFinalizer(claim, ClaimFinalizer) || claim.GetLabels()["noobaa-domain"] != "noobaa.noobaa.io" {
		t.Errorf("claim metadata: finalizers %v labels %v", claim.GetFinalizers(), claim.GetLabels())
	}
	cm, err := r.Objects.Get(ctx, configMapGVR, "app", "photos")
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for _, k := range []string{obv1.BucketHost, obv1.BucketPort, obv1.BucketName, obv1.BucketRegion, obv1.BucketSubRegion} {
		if _, ok := data[k]; !ok {
			t.Errorf("ConfigMap lacks %s", k)
		}
	}
	if data[obv1.BucketName] != bucket {
		t.Errorf("BUCKET_NAME %q, want %q", data[obv1.BucketName], bucket)
	}
	sec, err := r.Objects.Get(ctx, secretGVR, "app", "photos")
	if err != nil {
		t.Fatal(err)
	}
	keys := SecretData(sec)
	if !regexp.MustCompile(`^[A-Z0-9]{20}$`).MatchString(keys[obv1.AccessKeyID]) || len(keys[obv1.SecretAccessKey]) != 40 {
		t.Errorf("credentials do not look like an AWS key pair: %d and %d characters", len(keys[obv1.AccessKeyID]), len(keys[obv1.SecretAccessKey]))
	}
	ob, err := r.Objects.Get(ctx, obv1.ObjectBucketGVR, "", "obc-app-photos")
	if err != nil {
		t.Fatal(err)
	}
	if bc, _, _ := unstructured.NestedString(ob.Object, "spec", "additionalState", "bucketclass"); bc != "mirror" {
		t.Errorf("ObjectBucket additionalState.bucketclass %q", bc)
	}

	// The bucket is real: data written with its policy lands on both
	// stores' volumes.
	eng, failed, err := r.OpenEngine(ctx, "noobaa")
	if err != nil || len(failed) != 0 {
		t.Fatalf("engine: %v %v", err, failed)
	}
	rec, err := eng.Meta.Bucket(bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Policy.Tiers) != 1 || rec.Policy.Tiers[0].Placement != "Mirror" {
		t.Fatalf("bucket policy %+v", rec.Policy)
	}
	payload := bytes.Repeat([]byte("0123456789"), 100000)
	if _, err := eng.Put(ctx, bucket, "a.bin", rec.Policy, bytes.NewReader(payload)); err != nil {
		t.Fatal(err)
	}
	eng.Meta.Close()
	if n := filesUnder(t, r.PVPoolDir("noobaa", "pv1")); n == 0 {
		t.Fatal("nothing was written to pv1's volumes")
	}

	// Another pass changes nothing.
	before, _ := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "photos")
	pass(t, r)
	after, _ := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "photos")
	if before.GetResourceVersion() != after.GetResourceVersion() {
		t.Error("a pass rewrote a bound claim")
	}

	// A store a bucket uses cannot go: it stays, Deleting, with a
	// Warning naming the bucket.
	pv1, _ := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1")
	if err := r.Objects.Delete(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1", string(pv1.GetUID())); err != nil {
		t.Fatal(err)
	}
	pass(t, r)
	if p, _, reason, msg := status(t, r, nbv1.BackingStoreGVR, "pv1"); p != "Deleting" || reason != "InUse" || !strings.Contains(msg, "obc-app-photos") {
		t.Fatalf("store in use: %s %s %q", p, reason, msg)
	}
	if w := warnings(t, r, "noobaa", "pv1"); len(w) != 1 || !strings.HasPrefix(w[0], "BackingStoreInUse:") {
		t.Fatalf("store warnings: %q", w)
	}

	// Deleting the claim deletes its bucket's data, ConfigMap, Secret
	// and ObjectBucket; then the store can go, with its volumes.
	if err := r.Objects.Delete(ctx, obv1.ObjectBucketClaimGVR, "app", "photos", ""); err != nil {
		t.Fatal(err)
	}
	pass(t, r)
	if _, err := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "photos"); !apierrors.IsNotFound(err) {
		t.Errorf("claim still there: %v", err)
	}
	if _, err := r.Objects.Get(ctx, configMapGVR, "app", "photos"); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap still there: %v", err)
	}
	if _, err := r.Objects.Get(ctx, secretGVR, "app", "photos"); !apierrors.IsNotFound(err) {
		t.Errorf("Secret still there: %v", err)
	}
	if _, err := r.Objects.Get(ctx, obv1.ObjectBucketGVR, "", "obc-app-photos"); !apierrors.IsNotFound(err) {
		t.Errorf("ObjectBucket still there: %v", err)
	}
	meta, err := placement.OpenMeta(r.MetaPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := meta.Bucket(bucket); err == nil {
		t.Error("the data path still has the bucket")
	}
	meta.Close()
	if n := filesUnder(t, r.PVPoolDir("noobaa", "pv2")); n != 0 {
		t.Errorf("pv2 still holds %d files of the deleted bucket", n)
	}
	pass(t, r)
	if _, err := r.Objects.Get(ctx, nbv1.BackingStoreGVR, "noobaa", "pv1"); !apierrors.IsNotFound(err) {
		t.Errorf("store still there once no bucket uses it: %v", err)
	}
	if _, err := os.Stat(r.PVPoolDir("noobaa", "pv1")); !os.IsNotExist(err) {
		t.Errorf("pv1's volumes are still there: %v", err)
	}
}

func TestClaimExactNameTakenAndNamespaceClass(t *testing.T) {
	ctx := context.Background()
	r := newRec(t)
	create(t, r, nbv1.BackingStoreGVR, pvPool("pv1", "1Gi"))
	create(t, r, nbv1.BucketClassGVR, mirrorClass("one", "pv1"))
	first := claimObj("a", "one", "")
	first["spec"].(map[string]interface{})["bucketName"] = "shared-name"
	second := claimObj("b", "one", "")
	second["spec"].(map[string]interface{})["bucketName"] = "shared-name"
	create(t, r, obv1.ObjectBucketClaimGVR, first)
	pass(t, r)
	create(t, r, obv1.ObjectBucketClaimGVR, second)
	pass(t, r)
	b, _ := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "b")
	if p, _, _ := unstructured.NestedString(b.Object, "status", "phase"); p != "Failed" {
		t.Fatalf("second claim of a taken name: phase %q", p)
	}
	if w := warnings(t, r, "app", "b"); len(w) != 1 || !strings.Contains(w[0], "obc-app-a") {
		t.Fatalf("warnings: %q", w)
	}
	create(t, r, nbv1.BucketClassGVR, map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "ns-class", "namespace": "noobaa"},
		"spec": map[string]interface{}{"namespacePolicy": map[string]interface{}{"type": "Single",
			"single": map[string]interface{}{"resource": "nss"}}},
	})
	create(t, r, obv1.ObjectBucketClaimGVR, claimObj("c", "ns-class", "c"))
	pass(t, r)
	c, _ := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, "app", "c")
	if p, _, _ := unstructured.NestedString(c.Object, "status", "phase"); p != "Failed" {
		t.Fatalf("namespace-class claim: phase %q", p)
	}
	if w := warnings(t, r, "app", "c"); len(w) != 1 || !strings.Contains(w[0], "LocalTargetUnsupported") {
		t.Fatalf("warnings: %q", w)
	}
}

func filesUnder(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := walk(dir, func() { n++ })
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

func walk(dir string, file func()) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := walk(dir+"/"+e.Name(), file); err != nil {
				return err
			}
			continue
		}
		file()
	}
	return nil
}
