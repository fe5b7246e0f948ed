package verify

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/placement"
)

// subject is what a verify works on, resolved through kube.Client the
// same way on both targets (resolve); only the data path differs.
type subject struct {
	// claim is the Bound claim (nil: a bucket class without a claim, for
	// which the local route makes a temporary bucket).
	claim *unstructured.Unstructured
	// namespace is NooBaa's (the claim's storage class names it).
	namespace string
	// bucket is the claim's bucket (spec.bucketName).
	bucket    string
	className string
	class     *unstructured.Unstructured
	// policy is the placement the class promises.
	policy placement.Policy
}

// resolve reads the claim in.Claim (which must be Bound) or, without one,
// the bucket class in.BucketClass of in.Namespace (which must then be
// Ready: verify is about to write with it), and the placement the class
// promises.
func resolve(ctx context.Context, c *kube.Client, in Input) (*subject, error) {
	s := &subject{namespace: in.Namespace, className: in.BucketClass}
	if in.Claim != "" {
		claim, err := c.Get(ctx, obv1.ObjectBucketClaimGVR, "obc", in.ClaimNamespace, in.Claim)
		if errors.Is(err, kube.ErrNotFound) {
			return nil, fmt.Errorf("obc %q not found in namespace %q: list them with \"nb obc list -n %s\"", in.Claim, in.ClaimNamespace, in.ClaimNamespace)
		}
		if err != nil {
			return nil, err
		}
		if phase, _, _ := unstructured.NestedString(claim.Object, "status", "phase"); phase != "Bound" {
			return nil, fmt.Errorf("obc %q is %s, not Bound: see \"nb obc status %s -n %s\"", in.Claim, orNone(phase), in.Claim, in.ClaimNamespace)
		}
		sc, _, _ := unstructured.NestedString(claim.Object, "spec", "storageClassName")
		s.claim, s.className = claim, nbv1.ClaimClass(claim)
		s.namespace, _ = nbv1.SystemNamespace(sc)
		s.bucket, _, _ = unstructured.NestedString(claim.Object, "spec", "bucketName")
	}
	class, err := c.Get(ctx, nbv1.BucketClassGVR, "bucketclass", s.namespace, s.className)
	if errors.Is(err, kube.ErrNotFound) {
		return nil, fmt.Errorf("bucketclass %q not found in namespace %q: list them with \"nb bucketclass list -n %s\"", s.className, s.namespace, s.namespace)
	}
	if err != nil {
		return nil, err
	}
	if phase, _, _ := unstructured.NestedString(class.Object, "status", "phase"); s.claim == nil && phase != "Ready" {
		return nil, fmt.Errorf("bucketclass %q is %s, not Ready: see \"nb bucketclass status %s -n %s\"", s.className, orNone(phase), s.className, s.namespace)
	}
	var bc nbv1.BucketClass
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(class.Object, &bc); err != nil {
		return nil, fmt.Errorf("bucketclass %q: %w", s.className, err)
	}
	if s.policy, err = placement.PolicyFromBucketClass(&bc); err != nil {
		return nil, err
	}
	s.class = class
	return s, nil
}

// storeObjects reads the BackingStores a policy names.
func storeObjects(ctx context.Context, c *kube.Client, ns string, pol placement.Policy) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	for _, name := range Stores(pol) {
		obj, err := c.Get(ctx, nbv1.BackingStoreGVR, "backingstore", ns, name)
		if err != nil {
			return nil, err
		}
		out[name] = obj
	}
	return out, nil
}
