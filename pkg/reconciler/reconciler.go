// Package reconciler plays the NooBaa operator's part on nb's local
// target: it reads the objects in the local state (pkg/localstate) and
// writes back the phases, conditions, modes and events the operator
// would, after doing the real work locally: pv-pool stores become folders
// of volumes, S3 stores are checked against their endpoint with their
// Secret's keys, and bucket classes follow their stores.
//
// There is no daemon: nb runs passes in-process while a command waits.
package reconciler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/dir"
	s3store "github.com/nbctl/nb/pkg/blockstore/s3"
	"github.com/nbctl/nb/pkg/localstate"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/outage"
	"github.com/nbctl/nb/pkg/placement"
)

// Modes and reasons the operator uses.
const (
	ModeOptimal        = "OPTIMAL"
	ModeLowCapacity    = "LOW_CAPACITY"
	ModeNoCapacity     = "NO_CAPACITY"
	ModeAuthFailed     = "AUTH_FAILED"
	ModeStorageMissing = "STORAGE_NOT_EXIST"
	ModeIOErrors       = "IO_ERRORS"
	// LowCapacityFraction: a pv-pool is LOW_CAPACITY at or below 20% free.
	LowCapacityFraction = 0.20
)

// Reconciler reconciles the objects of one local state.
type Reconciler struct {
	Objects *localstate.DB
	// DataDir holds the pv-pool volumes: <DataDir>/<namespace>/<store>.
	DataDir string
	// S3Timeout bounds an S3 store's connection check.
	S3Timeout time.Duration
	// S3Recheck is how long an S3 store's check result is reused while
	// its spec and Secret stay the same (passes run often while nb waits).
	S3Recheck time.Duration
	// BucketHost and BucketPort go into claims' ConfigMaps.
	BucketHost string
	BucketPort int
	// Advertise keeps bound claims' ConfigMaps pointing at BucketHost and
	// BucketPort (nb serve sets it to where it listens).
	Advertise bool
	// Budget bounds the chunk buffers of the data path's engines (nb
	// serve's memory).
	Budget *placement.Budget
	// CollectInBackground deletes replaced versions on a goroutine of each
	// engine instead of in the Put (nb serve; StopCollectors at the end).
	CollectInBackground bool
	Now                 func() time.Time
	// AWSEndpoint, when set, is where aws-s3 stores go instead of AWS
	// (the SDKs' endpoint settings: see AWSEndpoint).
	AWSEndpoint string

	s3Checks    map[string]s3Check
	passes      int
	needCollect bool
	data        dataPath
}

// s3Check is a remembered S3 store check.
type s3Check struct {
	key string // uid, generation and the Secret's resourceVersion
	at  time.Time
	out outcome
}

func (r *Reconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Pass reconciles every store, bucket class and claim once, in that
// order (a claim needs its class, a class its stores), then deletes what
// objects that are gone left behind.
func (r *Reconciler) Pass(ctx context.Context) error {
	if r.passes == 0 {
		r.needCollect = true
	}
	r.passes++
	var errs, objErrs []error
	for _, gvr := range []struct {
		kind string
		fn   func(context.Context, *unstructured.Unstructured) error
		gvr  schema.GroupVersionResource
		list func(context.Context) (*unstructured.UnstructuredList, error)
	}{
		{"BackingStore", r.backingStore, nbv1.BackingStoreGVR, func(ctx context.Context) (*unstructured.UnstructuredList, error) {
			return r.Objects.List(ctx, nbv1.BackingStoreGVR, "")
		}},
		{"NamespaceStore", r.namespaceStore, nbv1.NamespaceStoreGVR, func(ctx context.Context) (*unstructured.UnstructuredList, error) {
			return r.Objects.List(ctx, nbv1.NamespaceStoreGVR, "")
		}},
		{"BucketClass", r.bucketClass, nbv1.BucketClassGVR, func(ctx context.Context) (*unstructured.UnstructuredList, error) {
			return r.Objects.List(ctx, nbv1.BucketClassGVR, "")
		}},
		{"ObjectBucketClaim", r.claim, obv1.ObjectBucketClaimGVR, func(ctx context.Context) (*unstructured.UnstructuredList, error) {
			return r.Objects.List(ctx, obv1.ObjectBucketClaimGVR, "")
		}},
	} {
		list, err := gvr.list(ctx)
		if err != nil {
			return err
		}
		for i := range list.Items {
			obj := &list.Items[i]
			if err := r.retryConflicts(ctx, gvr.gvr, obj, gvr.fn); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				objErrs = append(objErrs, fmt.Errorf("%s %s/%s: %w", gvr.kind, obj.GetNamespace(), obj.GetName(), err))
				// As the operator does: the object's events say what failed.
				if eerr := r.eventOnce(ctx, obj, gvr.kind, "Warning", "ReconcileFailed", err.Error()); eerr != nil && !apierrors.IsNotFound(eerr) {
					errs = append(errs, eerr)
				}
			}
		}
	}
	if err := r.syncEngines(ctx); err != nil {
		errs = append(errs, fmt.Errorf("data path: %w", err))
	}
	if r.needCollect {
		if err := r.collectOrphans(ctx); err != nil {
			errs = append(errs, fmt.Errorf("collecting orphans: %w", err))
		} else {
			r.needCollect = false
		}
	}
	if len(errs) > 0 {
		return errors.Join(append(errs, objErrs...)...)
	}
	if len(objErrs) > 0 {
		return &ObjectErrors{Errs: objErrs}
	}
	return nil
}

// ObjectErrors are what a pass could not do for some objects; each is
// also a ReconcileFailed event on its object. The pass itself (the state,
// the other objects) went through: like the operator's failures on a
// cluster, they fail no command that merely reads or waits.
type ObjectErrors struct{ Errs []error }

func (e *ObjectErrors) Error() string { return errors.Join(e.Errs...).Error() }

func (e *ObjectErrors) Unwrap() []error { return e.Errs }

// backingStore reconciles one BackingStore.
func (r *Reconciler) backingStore(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj.GetDeletionTimestamp() != nil {
		r.needCollect = true
		return r.finalizeStore(ctx, nbv1.BackingStoreGVR, obj, "BackingStore")
	}
	obj, err := r.adopt(ctx, nbv1.BackingStoreGVR, obj)
	if err != nil {
		return err
	}
	if outage.IsDown(r.PVPoolDir(obj.GetNamespace(), obj.GetName())) {
		return nil // nb verify is failing it on purpose: leave it be
	}
	o := r.storeOutcome(ctx, obj)
	return r.setStatus(ctx, nbv1.BackingStoreGVR, obj, o, true, "BackingStore")
}

// namespaceStore reconciles one NamespaceStore.
func (r *Reconciler) namespaceStore(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj.GetDeletionTimestamp() != nil {
		r.needCollect = true
		return r.finalizeStore(ctx, nbv1.NamespaceStoreGVR, obj, "NamespaceStore")
	}
	obj, err := r.adopt(ctx, nbv1.NamespaceStoreGVR, obj)
	if err != nil {
		return err
	}
	var o outcome
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t == string(nbv1.StoreTypeNSFS) {
		o = outcome{phase: "Rejected", reason: "LocalTargetUnsupported",
			message: "the local target cannot mount PVCs: use nsfs namespace stores on a cluster"}
	} else {
		o = r.storeOutcome(ctx, obj)
	}
	return r.setStatus(ctx, nbv1.NamespaceStoreGVR, obj, o, true, "NamespaceStore")
}

// storeOutcome does a store's real work and says how it went.
func (r *Reconciler) storeOutcome(ctx context.Context, obj *unstructured.Unstructured) outcome {
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	switch nbv1.StoreType(typ) {
	case nbv1.StoreTypePVPool:
		return r.pvPool(ctx, obj)
	case nbv1.StoreTypeAWSS3, nbv1.StoreTypeS3Compatible, nbv1.StoreTypeIBMCos:
		return r.s3(ctx, obj)
	case nbv1.StoreTypeAzureBlob:
		return outcome{phase: "Rejected", reason: "LocalTargetUnsupported",
			message: "the local target cannot reach Azure Blob storage: use an s3-compatible store (any S3 endpoint, e.g. MinIO or versitygw) or run against a cluster"}
	case nbv1.StoreTypeGoogleCloudStorage:
		return outcome{phase: "Rejected", reason: "LocalTargetUnsupported",
			message: "the local target cannot reach Google Cloud Storage: use an s3-compatible store (GCS offers an S3-compatible XML API with HMAC keys) or run against a cluster"}
	}
	return outcome{phase: "Rejected", reason: "BackingStoreValidationError", message: fmt.Sprintf("unknown store type %q", typ)}
}

// PVPoolDir is where a pv-pool store's volumes live.
func (r *Reconciler) PVPoolDir(ns, name string) string { return filepath.Join(r.DataDir, ns, name) }

// OpenPVPool opens (creating) the volumes of a pv-pool store.
func (r *Reconciler) OpenPVPool(obj *unstructured.Unstructured) (*dir.Store, error) {
	n, _, _ := unstructured.NestedInt64(obj.Object, "spec", "pvPool", "numVolumes")
	size := int64(16 << 30)
	if q, ok, _ := unstructured.NestedString(obj.Object, "spec", "pvPool", "resources", "requests", "storage"); ok {
		n, err := manifest.ByteSize(q)
		if err != nil {
			return nil, fmt.Errorf("spec.pvPool.resources.requests.storage: %w", err)
		}
		size = n
	}
	if n < 1 {
		return nil, fmt.Errorf("numVolumes is %d", n)
	}
	return dir.Open(obj.GetName(), r.PVPoolDir(obj.GetNamespace(), obj.GetName()), int(n), size)
}

func (r *Reconciler) pvPool(ctx context.Context, obj *unstructured.Unstructured) outcome {
	s, err := r.StoreFor(ctx, obj)
	if err != nil {
		return outcome{phase: "Rejected", mode: ModeIOErrors, reason: "IO_ERRORS", message: err.Error()}
	}
	c, err := s.Capacity(ctx)
	if err != nil {
		return outcome{phase: "Rejected", mode: ModeIOErrors, reason: "IO_ERRORS", message: err.Error()}
	}
	return capacityOutcome(c, "backing store is ready")
}

// capacityOutcome maps free space to the operator's modes.
func capacityOutcome(c blockstore.Capacity, ready string) outcome {
	free := c.Free()
	switch {
	case free == 0:
		return outcome{phase: "Rejected", mode: ModeNoCapacity, reason: ModeNoCapacity, message: "the volumes are full"}
	case free > 0 && float64(free) <= LowCapacityFraction*float64(c.Total):
		return outcome{phase: "Ready", mode: ModeLowCapacity, reason: "BackingStorePhaseReady",
			message: fmt.Sprintf("%s; %.0f%% free", ready, 100*float64(free)/float64(c.Total))}
	}
	return outcome{phase: "Ready", mode: ModeOptimal, reason: "BackingStorePhaseReady", message: ready}
}

func (r *Reconciler) s3(ctx context.Context, obj *unstructured.Unstructured) outcome {
	cfg, secretRV, bad := r.s3ConfigRV(ctx, obj)
	if bad != nil {
		return *bad
	}
	key := fmt.Sprintf("%s/%d/%s", obj.GetUID(), obj.GetGeneration(), secretRV)
	recheck := r.S3Recheck
	if recheck == 0 {
		recheck = 30 * time.Second
	}
	if c, ok := r.s3Checks[string(obj.GetUID())]; ok && c.key == key && r.now().Sub(c.at) < recheck {
		return c.out
	}
	o := r.checkS3(ctx, cfg)
	if o.phase != "" {
		if r.s3Checks == nil {
			r.s3Checks = map[string]s3Check{}
		}
		r.s3Checks[string(obj.GetUID())] = s3Check{key: key, at: r.now(), out: o}
	}
	return o
}

// checkS3 connects to an S3 store's bucket.
func (r *Reconciler) checkS3(ctx context.Context, cfg s3store.Config) outcome {
	s, err := s3store.New(cfg)
	if err != nil {
		return outcome{phase: "Rejected", reason: "BackingStoreValidationError", message: err.Error()}
	}
	timeout := r.S3Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch err := s.CheckBucket(cctx); {
	case err == nil:
		return outcome{phase: "Ready", mode: ModeOptimal, reason: "BackingStorePhaseReady", message: "backing store is ready"}
	case errors.Is(err, s3store.ErrAuth):
		return outcome{phase: "Rejected", mode: ModeAuthFailed, reason: ModeAuthFailed, message: fmt.Sprintf("the endpoint refused the Secret's keys: %v", err)}
	case errors.Is(err, s3store.ErrNoBucket):
		return outcome{phase: "Rejected", mode: ModeStorageMissing, reason: ModeStorageMissing, message: fmt.Sprintf("target bucket %q does not exist: create it first", cfg.Bucket)}
	case ctx.Err() != nil:
		return outcome{}
	default:
		return outcome{phase: "Rejected", mode: ModeIOErrors, reason: ModeIOErrors, message: fmt.Sprintf("cannot reach %s: %v", cfg.Endpoint, err)}
	}
}

// alternate key names the operator also accepts (fixAlternateKeysNames).
var keyNames = map[string][]string{
	"access": {"AWS_ACCESS_KEY_ID", "aws_access_key_id", "AccessKey", "IBM_COS_ACCESS_KEY_ID"},
	"secret": {"AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "SecretKey", "IBM_COS_SECRET_ACCESS_KEY"},
}

// s3Config builds the S3 configuration of a store from its spec and Secret.
func (r *Reconciler) s3Config(ctx context.Context, obj *unstructured.Unstructured) (s3store.Config, *outcome) {
	cfg, _, bad := r.s3ConfigRV(ctx, obj)
	return cfg, bad
}

// s3ConfigRV is s3Config that also returns the Secret's resourceVersion.
func (r *Reconciler) s3ConfigRV(ctx context.Context, obj *unstructured.Unstructured) (s3store.Config, string, *outcome) {
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	field := map[string]string{"aws-s3": "awsS3", "s3-compatible": "s3Compatible", "ibm-cos": "ibmCos"}[typ]
	str := func(k ...string) string {
		v, _, _ := unstructured.NestedString(obj.Object, append([]string{"spec", field}, k...)...)
		return v
	}
	cfg := s3store.Config{Name: obj.GetName(), Bucket: str("targetBucket"), Region: str("region"), PathStyle: typ != "aws-s3", SignatureVersion: str("signatureVersion")}
	switch typ {
	case "aws-s3":
		if str("awsSTSRoleARN") != "" {
			return cfg, "", &outcome{phase: "Rejected", reason: "LocalTargetUnsupported", message: "the local target cannot assume IAM roles (STS): use aws-s3 with an access key pair"}
		}
		scheme := "https"
		if ssl, _, _ := unstructured.NestedBool(obj.Object, "spec", field, "sslDisabled"); ssl {
			scheme = "http"
		}
		cfg.Endpoint = scheme + "://s3.amazonaws.com"
		if cfg.Region != "" {
			cfg.Endpoint = fmt.Sprintf("%s://s3.%s.amazonaws.com", scheme, cfg.Region)
		}
		if r.AWSEndpoint != "" {
			// A stand-in for AWS: addressed by path, as S3 servers other
			// than AWS's want.
			cfg.Endpoint, cfg.PathStyle = r.AWSEndpoint, true
		}
	default:
		cfg.Endpoint = str("endpoint")
	}
	secretName, ns := str("secret", "name"), str("secret", "namespace")
	if ns == "" {
		ns = obj.GetNamespace()
	}
	secret, err := r.Objects.Get(ctx, secretGVR, ns, secretName)
	if err != nil {
		return cfg, "", &outcome{phase: "Rejected", reason: "MissingSecret", message: fmt.Sprintf("secret %q in namespace %q: %v", secretName, ns, err)}
	}
	data := SecretData(secret)
	pick := func(role string) string {
		for _, k := range keyNames[role] {
			if v := data[k]; v != "" {
				return v
			}
		}
		return ""
	}
	cfg.AccessKey, cfg.SecretKey = pick("access"), pick("secret")
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return cfg, "", &outcome{phase: "Rejected", reason: "InvalidSecret", message: fmt.Sprintf("secret %q lacks the access or secret key", secretName)}
	}
	return cfg, secret.GetResourceVersion(), nil
}

// bucketClass: Ready when every store exists and is not Rejected.
func (r *Reconciler) bucketClass(ctx context.Context, obj *unstructured.Unstructured) error {
	if obj.GetDeletionTimestamp() != nil {
		r.needCollect = true
		return r.finalizeClass(ctx, obj)
	}
	obj, err := r.adopt(ctx, nbv1.BucketClassGVR, obj)
	if err != nil {
		return err
	}
	o := outcome{phase: "Ready", mode: ModeOptimal, reason: "BucketClassPhaseReady", message: "noobaa operator completed reconcile - bucket class is ready"}
	check := func(kind string, names []string, get func(string) (*unstructured.Unstructured, error)) bool {
		for _, n := range names {
			s, err := get(n)
			if err != nil {
				o = outcome{phase: "Rejected", reason: "Missing" + kind, message: fmt.Sprintf("%s %q does not exist", kind, n)}
				return false
			}
			switch phase, _, _ := unstructured.NestedString(s.Object, "status", "phase"); phase {
			case "Rejected":
				o = outcome{phase: "Rejected", reason: "Rejected" + kind, message: fmt.Sprintf("%s %q is rejected", kind, n)}
				return false
			case "Ready":
			default:
				if o.phase == "Ready" {
					o = outcome{phase: "Verifying", reason: "TemporaryError", message: fmt.Sprintf("%s %q is not yet ready", kind, n)}
				}
			}
		}
		return true
	}
	backing, namespace := nbv1.StoresUsedBy(obj)
	ns := obj.GetNamespace()
	_ = check("BackingStore", backing, func(n string) (*unstructured.Unstructured, error) {
		return r.Objects.Get(ctx, nbv1.BackingStoreGVR, ns, n)
	}) && check("NamespaceStore", namespace, func(n string) (*unstructured.Unstructured, error) {
		return r.Objects.Get(ctx, nbv1.NamespaceStoreGVR, ns, n)
	})
	if o.phase != "Ready" {
		o.mode = ""
	}
	return r.setStatus(ctx, nbv1.BucketClassGVR, obj, o, false, "BucketClass")
}

// retryConflicts reconciles obj, starting again from a fresh read when
// another nb process changed it meanwhile (a Conflict), as controllers
// do; an object deleted meanwhile is done with.
func (r *Reconciler) retryConflicts(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, fn func(context.Context, *unstructured.Unstructured) error) error {
	const attempts = 5
	for i := 0; ; i++ {
		err := fn(ctx, obj)
		switch {
		case err == nil:
			return nil
		case !apierrors.IsConflict(err) && !apierrors.IsNotFound(err):
			return err
		case i == attempts-1:
			return err
		}
		fresh, gerr := r.Objects.Get(ctx, gvr, obj.GetNamespace(), obj.GetName())
		if apierrors.IsNotFound(gerr) {
			return nil
		}
		if gerr != nil {
			return gerr
		}
		obj = fresh
	}
}
