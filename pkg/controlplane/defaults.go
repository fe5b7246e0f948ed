package controlplane

import (
	"context"
	"encoding/base64"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/reconciler"
)

// What a NooBaa installation makes, and the local target makes with a new
// state directory (noobaa install; --manual-default-backing-store leaves
// the store and class out).
const (
	DefaultBackingStore = "noobaa-default-backing-store"
	// AdminSecret holds NooBaa's admin account: its S3 keys see every
	// bucket (nb verify --endpoint and nb status -o env use them).
	AdminSecret = "noobaa-admin"
	// defaultVolumeSize is the operator's pv-pool size when none is set.
	defaultVolumeSize = "20Gi"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Options are how a new state directory is set up.
type Options struct {
	// ManualDefaultBackingStore: no default backing store and bucket
	// class (noobaa install --manual-default-backing-store).
	ManualDefaultBackingStore bool
	// Getenv reads the environment (default os.Getenv): the AWS SDKs'
	// endpoint settings for aws-s3 stores.
	Getenv func(string) string
}

// setUp makes a new state directory's default objects in NooBaa's
// namespace. Another process setting up the same directory at once is
// harmless: what exists already is left as it is.
func (c *ControlPlane) setUp(ctx context.Context, opt Options) error {
	if err := c.EnsureAdmin(ctx, nbv1.DefaultNamespace); err != nil {
		return err
	}
	if opt.ManualDefaultBackingStore {
		return nil
	}
	ns := nbv1.DefaultNamespace
	store := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": DefaultBackingStore, "namespace": ns, "labels": map[string]interface{}{"app": "noobaa"}},
		"spec": map[string]interface{}{"type": string(nbv1.StoreTypePVPool), "pvPool": map[string]interface{}{
			"numVolumes": int64(1), "resources": map[string]interface{}{"requests": map[string]interface{}{"storage": defaultVolumeSize}}}},
	}}
	class := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": nbv1.DefaultBucketClass, "namespace": ns, "labels": map[string]interface{}{"app": "noobaa"}},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"backingStores": []interface{}{DefaultBackingStore}}}}},
	}}
	for _, o := range []struct {
		gvr schema.GroupVersionResource
		obj *unstructured.Unstructured
	}{{nbv1.BackingStoreGVR, store}, {nbv1.BucketClassGVR, class}} {
		if _, err := c.Objects.Create(ctx, o.gvr, o.obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("setting up %s: %s %s: %w", c.Dir, o.obj.GetKind(), o.obj.GetName(), err)
		}
	}
	return nil
}

// EnsureAdmin makes NooBaa's admin Secret unless it exists: the admin
// account's S3 key pair (and, as NooBaa's has, an email and password).
func (c *ControlPlane) EnsureAdmin(ctx context.Context, ns string) error {
	if _, err := c.Objects.Get(ctx, secretGVR, ns, AdminSecret); err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	secret := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]interface{}{"name": AdminSecret, "namespace": ns, "labels": map[string]interface{}{"app": "noobaa"}},
		"data": map[string]interface{}{
			obv1.AccessKeyID:     b64(reconciler.RandomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")),
			obv1.SecretAccessKey: b64(reconciler.RandomKey(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
			"email":              b64("admin@noobaa.io"),
			"password":           b64(reconciler.RandomKey(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
			"system":             b64("noobaa"),
		},
	}}
	if _, err := c.Objects.Create(ctx, secretGVR, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the admin Secret %s/%s: %w", ns, AdminSecret, err)
	}
	return nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
