package reconciler

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/placement"
)

// What the local provisioner writes, as lib-bucket-provisioner and the
// NooBaa provisioner do on a cluster.
const (
	// ClaimFinalizer holds a claim, its ConfigMap and Secret until the
	// bucket is gone.
	ClaimFinalizer = "objectbucket.io/finalizer"
	// LocalRegion is the region written to BUCKET_REGION.
	LocalRegion = "us-east-1"
	// bucketPrefixMax: generateBucketName's prefix is cut to 26
	// characters (lib-bucket-provisioner).
	bucketPrefixMax = 26
)

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// ObjectBucketName is the ObjectBucket of a claim.
func ObjectBucketName(ns, name string) string { return "obc-" + ns + "-" + name }

// claim provisions one ObjectBucketClaim: a bucket in the data path with
// its class's placement, the ObjectBucket, and the ConfigMap and Secret
// an application mounts; Pending with a Warning event while its class is
// missing or not Ready.
func (r *Reconciler) claim(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj.GetDeletionTimestamp() != nil {
		return r.releaseClaim(ctx, obj)
	}
	sc, _, _ := unstructured.NestedString(obj.Object, "spec", "storageClassName")
	sysNS, ok := nbv1.SystemNamespace(sc)
	if !ok {
		return r.claimProblem(ctx, obj, "Failed", "UnsupportedStorageClass",
			fmt.Sprintf("storage class %q is not NooBaa's (<namespace>%s): the local target provisions NooBaa claims only", sc, nbv1.StorageClassSuffix))
	}
	className := nbv1.ClaimClass(obj)
	phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
	class, err := r.Objects.Get(ctx, nbv1.BucketClassGVR, sysNS, className)
	if apierrors.IsNotFound(err) {
		if phase == "Bound" {
			return nil // the class went away under a bound claim: keep its policy
		}
		return r.claimProblem(ctx, obj, "Pending", "MissingBucketClass", fmt.Sprintf("BucketClass %q not found in namespace %q", className, sysNS))
	}
	if err != nil {
		return err
	}
	var bc nbv1.BucketClass
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(class.Object, &bc); err != nil {
		return fmt.Errorf("bucketclass %q: %w", className, err)
	}
	if bc.Spec.NamespacePolicy != nil {
		return r.claimProblem(ctx, obj, "Failed", "LocalTargetUnsupported",
			fmt.Sprintf("BucketClass %q has a namespace policy: namespace buckets are served by NooBaa's S3 endpoint, which the local target does not run; use a placement bucket class here, or a cluster", className))
	}
	if phase == "Bound" {
		if r.Advertise {
			if err := r.advertise(ctx, obj); err != nil {
				return err
			}
		}
		return r.followClass(ctx, obj, &bc)
	}
	if p, _, _ := unstructured.NestedString(class.Object, "status", "phase"); p != "Ready" {
		return r.claimProblem(ctx, obj, "Pending", "BucketClassNotReady", fmt.Sprintf("BucketClass %q is not ready", className))
	}
	pol, err := placement.PolicyFromBucketClass(&bc)
	if err != nil {
		return r.claimProblem(ctx, obj, "Failed", "InvalidBucketClass", err.Error())
	}

	provisioner := sysNS + nbv1.StorageClassSuffix + "-obc"

	// 1. Record the bucket name (generated once) and the finalizer on the
	// claim before anything exists that a crash could orphan.
	bucket, _, _ := unstructured.NestedString(obj.Object, "spec", "bucketName")
	if bucket == "" || !hasFinalizer(obj, ClaimFinalizer) {
		if bucket == "" {
			prefix, _, _ := unstructured.NestedString(obj.Object, "spec", "generateBucketName")
			if prefix == "" {
				prefix = obj.GetName()
			}
			if len(prefix) > bucketPrefixMax {
				prefix = prefix[:bucketPrefixMax]
			}
			bucket = prefix + "-" + uuid.NewString()
		} else if owner, err := r.bucketOwner(ctx, bucket); err != nil {
			return err
		} else if owner != "" && owner != ObjectBucketName(obj.GetNamespace(), obj.GetName()) {
			return r.claimProblem(ctx, obj, "Failed", "BucketNameTaken", fmt.Sprintf("bucket %q belongs to %s: choose another name", bucket, owner))
		}
		next := obj.DeepCopy()
		_ = unstructured.SetNestedField(next.Object, bucket, "spec", "bucketName")
		addFinalizer(next, ClaimFinalizer)
		labels := next.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["bucket-provisioner"] = provisioner
		labels["noobaa-domain"] = sysNS + nbv1.StorageClassSuffix
		labels["app"] = "noobaa"
		next.SetLabels(labels)
		updated, err := r.Objects.Update(ctx, obv1.ObjectBucketClaimGVR, next)
		if err != nil {
			return err
		}
		obj = updated
	}

	// 2. The bucket in the data path.
	meta, err := r.Meta()
	if err != nil {
		return err
	}
	if rec, err := meta.Bucket(bucket); err == nil && rec.Owner != "" {
		return r.claimProblem(ctx, obj, "Failed", "BucketNameTaken", fmt.Sprintf("bucket %q was created over S3: choose another name", bucket))
	}
	if err := meta.PutBucket(placement.Bucket{Name: bucket, Policy: pol, Created: r.now().UTC(), Class: className, Generation: class.GetGeneration(), Namespace: sysNS}); err != nil {
		return err
	}

	// 3. Credentials, connection details and the ObjectBucket.
	owner := ownerRef(obj, "objectbucket.io/v1alpha1", "ObjectBucketClaim")
	if err := r.ensure(ctx, secretGVR, &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]interface{}{"name": obj.GetName(), "namespace": obj.GetNamespace(),
			"finalizers": []interface{}{ClaimFinalizer}, "ownerReferences": []interface{}{owner},
			"labels": map[string]interface{}{"app": "noobaa", "bucket-provisioner": provisioner}},
		"data": map[string]interface{}{
			obv1.AccessKeyID:     b64(RandomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
			obv1.SecretAccessKey: b64(RandomKey(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")),
		},
	}}); err != nil {
		return err
	}
	endpoint := map[string]interface{}{
		"bucketHost": r.bucketHost(), "bucketPort": int64(r.BucketPort), "bucketName": bucket,
		"region": LocalRegion, "subRegion": "", "additionalConfig": map[string]interface{}{},
	}
	if err := r.ensure(ctx, configMapGVR, &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]interface{}{"name": obj.GetName(), "namespace": obj.GetNamespace(),
			"finalizers": []interface{}{ClaimFinalizer}, "ownerReferences": []interface{}{owner},
			"labels": map[string]interface{}{"app": "noobaa", "bucket-provisioner": provisioner}},
		"data": map[string]interface{}{
			obv1.BucketHost: r.bucketHost(), obv1.BucketPort: strconv.Itoa(r.BucketPort), obv1.BucketName: bucket,
			obv1.BucketRegion: LocalRegion, obv1.BucketSubRegion: "",
		},
	}}); err != nil {
		return err
	}
	obName := ObjectBucketName(obj.GetNamespace(), obj.GetName())
	if err := r.ensure(ctx, obv1.ObjectBucketGVR, &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucket",
		"metadata": map[string]interface{}{"name": obName, "finalizers": []interface{}{ClaimFinalizer},
			"labels": map[string]interface{}{"app": "noobaa", "bucket-provisioner": provisioner}},
		"spec": map[string]interface{}{
			"storageClassName": obj.Object["spec"].(map[string]interface{})["storageClassName"],
			"reclaimPolicy":    "Delete",
			"claimRef": map[string]interface{}{"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
				"name": obj.GetName(), "namespace": obj.GetNamespace(), "uid": string(obj.GetUID())},
			"endpoint": endpoint,
			"additionalState": map[string]interface{}{
				"bucketclass": className, "bucketclassgeneration": strconv.FormatInt(class.GetGeneration(), 10),
			},
		},
		"status": map[string]interface{}{"phase": "Bound"},
	}}); err != nil {
		return err
	}

	// 4. The claim is bound.
	next := obj.DeepCopy()
	_ = unstructured.SetNestedField(next.Object, obName, "spec", "objectBucketName")
	updated, err := r.Objects.Update(ctx, obv1.ObjectBucketClaimGVR, next)
	if err != nil {
		return err
	}
	_ = unstructured.SetNestedField(updated.Object, "Bound", "status", "phase")
	if _, err := r.Objects.UpdateStatus(ctx, obv1.ObjectBucketClaimGVR, updated); err != nil {
		return err
	}
	return r.event(ctx, obj, "ObjectBucketClaim", "Normal", "Provisioned",
		fmt.Sprintf("bucket %q created with bucket class %q (%s)", bucket, className, pol.String()))
}

// followClass keeps a bound bucket's placement in step with its class,
// as the operator updates NooBaa's tiering policy when a class changes.
func (r *Reconciler) followClass(ctx context.Context, obj *unstructured.Unstructured, bc *nbv1.BucketClass) error {
	bucket, _, _ := unstructured.NestedString(obj.Object, "spec", "bucketName")
	meta, err := r.Meta()
	if err != nil {
		return err
	}
	rec, err := meta.Bucket(bucket)
	if errors.Is(err, placement.ErrNoBucket) {
		// Another nb process may have released the claim since this pass
		// listed it: then there is nothing to follow.
		fresh, gerr := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, obj.GetNamespace(), obj.GetName())
		if apierrors.IsNotFound(gerr) || (gerr == nil && (fresh.GetDeletionTimestamp() != nil || fresh.GetUID() != obj.GetUID())) {
			return nil
		}
		return r.eventOnce(ctx, obj, "ObjectBucketClaim", "Warning", "BucketMissing",
			fmt.Sprintf("bucket %q of this bound claim is not in the data path's index (data/buckets.db): \"nb recover\" rebuilds it from what its stores hold; if they hold nothing, delete the claim and create it again", bucket))
	}
	if err != nil {
		return err
	}
	if rec.Class == bc.Name && rec.Generation == bc.Generation {
		return nil
	}
	pol, err := placement.PolicyFromBucketClass(bc)
	if err != nil {
		return r.event(ctx, obj, "ObjectBucketClaim", "Warning", "InvalidBucketClass", err.Error())
	}
	rec.Policy, rec.Class, rec.Generation = pol, bc.Name, bc.Generation
	if err := meta.PutBucket(rec); err != nil {
		return err
	}
	return r.event(ctx, obj, "ObjectBucketClaim", "Normal", "PlacementUpdated",
		fmt.Sprintf("bucket %q now places new data as bucket class %q says (%s)", bucket, bc.Name, pol.String()))
}

// advertise points a bound claim's ConfigMap and ObjectBucket at the
// endpoint that serves it now (BucketHost:BucketPort).
func (r *Reconciler) advertise(ctx context.Context, obj *unstructured.Unstructured) error {
	host, port := r.bucketHost(), strconv.Itoa(r.BucketPort)
	cm, err := r.Objects.Get(ctx, configMapGVR, obj.GetNamespace(), obj.GetName())
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ownedBy(cm, obj) {
		return nil
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data[obv1.BucketHost] != host || data[obv1.BucketPort] != port {
		next := cm.DeepCopy()
		_ = unstructured.SetNestedField(next.Object, host, "data", obv1.BucketHost)
		_ = unstructured.SetNestedField(next.Object, port, "data", obv1.BucketPort)
		if _, err := r.Objects.Update(ctx, configMapGVR, next); err != nil {
			return err
		}
	}
	ob, err := r.Objects.Get(ctx, obv1.ObjectBucketGVR, "", ObjectBucketName(obj.GetNamespace(), obj.GetName()))
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	h, _, _ := unstructured.NestedString(ob.Object, "spec", "endpoint", "bucketHost")
	p, _, _ := unstructured.NestedInt64(ob.Object, "spec", "endpoint", "bucketPort")
	if h != host || p != int64(r.BucketPort) {
		next := ob.DeepCopy()
		_ = unstructured.SetNestedField(next.Object, host, "spec", "endpoint", "bucketHost")
		_ = unstructured.SetNestedField(next.Object, int64(r.BucketPort), "spec", "endpoint", "bucketPort")
		if _, err := r.Objects.Update(ctx, obv1.ObjectBucketGVR, next); err != nil {
			return err
		}
	}
	return nil
}

// releaseClaim deletes a claim's bucket with its data (reclaimPolicy
// Delete), its ObjectBucket, ConfigMap and Secret, then lets it go.
func (r *Reconciler) releaseClaim(ctx context.Context, obj *unstructured.Unstructured) error {
	if !hasFinalizer(obj, ClaimFinalizer) {
		return nil
	}
	bucket, _, _ := unstructured.NestedString(obj.Object, "spec", "bucketName")
	sc, _, _ := unstructured.NestedString(obj.Object, "spec", "storageClassName")
	if sysNS, ok := nbv1.SystemNamespace(sc); ok && bucket != "" {
		if err := r.deleteBucket(ctx, sysNS, bucket); err != nil {
			return err
		}
	}
	for _, o := range []struct {
		gvr      schema.GroupVersionResource
		ns, name string
	}{
		{obv1.ObjectBucketGVR, "", ObjectBucketName(obj.GetNamespace(), obj.GetName())},
		{configMapGVR, obj.GetNamespace(), obj.GetName()},
		{secretGVR, obj.GetNamespace(), obj.GetName()},
	} {
		if err := r.deleteOwned(ctx, o.gvr, o.ns, o.name, obj); err != nil {
			return err
		}
	}
	return r.removeFinalizer(ctx, obv1.ObjectBucketClaimGVR, obj, ClaimFinalizer)
}

// deleteBucket removes a bucket and its objects from the data path.
func (r *Reconciler) deleteBucket(ctx context.Context, ns, bucket string) error {
	eng, _, err := r.OpenEngine(ctx, ns)
	if err != nil {
		return err
	}
	if err := eng.DeleteBucket(ctx, bucket); err != nil && !errors.Is(err, placement.ErrNoBucket) {
		return fmt.Errorf("bucket %q: %w", bucket, err)
	}
	return nil
}

// deleteOwned deletes an object the claim created (and only if it did):
// its finalizer is released first.
func (r *Reconciler) deleteOwned(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, claim *unstructured.Unstructured) error {
	o, err := r.Objects.Get(ctx, gvr, ns, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !ownedBy(o, claim) {
		return nil
	}
	if hasFinalizer(o, ClaimFinalizer) {
		next := o.DeepCopy()
		removeFinalizer(next, ClaimFinalizer)
		if o, err = r.Objects.Update(ctx, gvr, next); err != nil {
			return err
		}
		if o.GetDeletionTimestamp() != nil {
			return nil
		}
	}
	err = r.Objects.Delete(ctx, gvr, ns, name, string(o.GetUID()))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// ownedBy: an owner reference to the claim, or (the cluster-scoped
// ObjectBucket) a claimRef naming it.
func ownedBy(o, claim *unstructured.Unstructured) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.UID == claim.GetUID() {
			return true
		}
	}
	uid, _, _ := unstructured.NestedString(o.Object, "spec", "claimRef", "uid")
	return uid != "" && uid == string(claim.GetUID())
}

// bucketOwner names the ObjectBucket holding a bucket name, if any.
func (r *Reconciler) bucketOwner(ctx context.Context, bucket string) (string, error) {
	obs, err := r.Objects.List(ctx, obv1.ObjectBucketGVR, "")
	if err != nil {
		return "", err
	}
	for _, ob := range obs.Items {
		if n, _, _ := unstructured.NestedString(ob.Object, "spec", "endpoint", "bucketName"); n == bucket {
			return ob.GetName(), nil
		}
	}
	return "", nil
}

// claimProblem leaves the claim in phase with a Warning event (once per
// reason and message), as the provisioner does.
func (r *Reconciler) claimProblem(ctx context.Context, obj *unstructured.Unstructured, phase, reason, msg string) error {
	if cur, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); cur != phase {
		next := obj.DeepCopy()
		_ = unstructured.SetNestedField(next.Object, phase, "status", "phase")
		if _, err := r.Objects.UpdateStatus(ctx, obv1.ObjectBucketClaimGVR, next); err != nil {
			return err
		}
	}
	return r.eventOnce(ctx, obj, "ObjectBucketClaim", "Warning", reason, msg)
}

// ensure creates obj unless it exists.
func (r *Reconciler) ensure(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	_, err := r.Objects.Create(ctx, gvr, obj)
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (r *Reconciler) bucketHost() string {
	if r.BucketHost == "" {
		return "localhost"
	}
	return r.BucketHost
}

func ownerRef(obj *unstructured.Unstructured, apiVersion, kind string) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": apiVersion, "kind": kind, "name": obj.GetName(), "uid": string(obj.GetUID()),
		"controller": true, "blockOwnerDeletion": true,
	}
}

// RandomKey returns n characters drawn uniformly from alphabet.
func RandomKey(n int, alphabet string) string {
	b := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		_, _ = rand.Read(buf) // crypto/rand.Read never returns an error (Go 1.24+)
		if int(buf[0]) < 256-256%len(alphabet) {
			b[i] = alphabet[int(buf[0])%len(alphabet)]
			i++
		}
	}
	return string(b)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
