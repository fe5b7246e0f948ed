package v1alpha1

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/apis/status"
)

// NooBaa's rules about its objects, which the commands, the local
// reconciler and verify all apply.
const (
	// DefaultBucketClass is the class a NooBaa installation makes, and the
	// class of claims that name none (the NooBaa storage class's
	// parameter).
	DefaultBucketClass = "noobaa-default-bucket-class"
	// StorageClassSuffix: NooBaa's claim storage class is <ns>.noobaa.io.
	StorageClassSuffix = ".noobaa.io"
)

// SystemNamespace is the NooBaa namespace a claim's storage class names.
func SystemNamespace(storageClass string) (string, bool) {
	ns, ok := strings.CutSuffix(storageClass, StorageClassSuffix)
	return ns, ok && ns != ""
}

// ClaimClass is the bucket class a claim asks for.
func ClaimClass(obj *unstructured.Unstructured) string {
	if bc, _, _ := unstructured.NestedString(obj.Object, "spec", "additionalConfig", obv1.ConfigBucketClass); bc != "" {
		return bc
	}
	return DefaultBucketClass
}

// Mode returns an object's mode: status.mode.modeCode for stores, the
// plain status.mode string for bucket classes.
func Mode(o *unstructured.Unstructured) string {
	if m, _, _ := unstructured.NestedString(o.Object, "status", "mode", "modeCode"); m != "" {
		return m
	}
	m, _, _ := unstructured.NestedString(o.Object, "status", "mode")
	return m
}

// StoresUsedBy returns the backing and namespace stores a BucketClass names.
func StoresUsedBy(bc *unstructured.Unstructured) (backing, namespace []string) {
	tiers, _, _ := unstructured.NestedSlice(bc.Object, "spec", "placementPolicy", "tiers")
	for _, t := range tiers {
		m, _ := t.(map[string]interface{})
		stores, _, _ := unstructured.NestedStringSlice(m, "backingStores")
		backing = append(backing, stores...)
	}
	np := func(path ...string) string {
		v, _, _ := unstructured.NestedString(bc.Object, append([]string{"spec", "namespacePolicy"}, path...)...)
		return v
	}
	for _, v := range []string{np("single", "resource"), np("multi", "writeResource"), np("cache", "hubResource")} {
		if v != "" {
			namespace = append(namespace, v)
		}
	}
	reads, _, _ := unstructured.NestedStringSlice(bc.Object, "spec", "namespacePolicy", "multi", "readResources")
	namespace = append(namespace, reads...)
	return backing, namespace
}

// StoreReady is the condition of BackingStores and NamespaceStores: phase
// Ready with a mode that is no longer INITIALIZING (the operator can report
// Ready before the pool is usable), or Rejected.
func StoreReady(obj *unstructured.Unstructured) (status.Verdict, status.Progress) {
	p := status.Read(obj)
	switch {
	case p.Phase == "Rejected":
		return status.Rejected, p
	case p.Phase == "Ready" && p.Mode != "INITIALIZING":
		return status.Done, p
	}
	return status.Waiting, p
}

// BucketClassReady is the condition of BucketClasses.
func BucketClassReady(obj *unstructured.Unstructured) (status.Verdict, status.Progress) {
	return status.ByPhase(status.Read(obj), "Ready", "Rejected")
}
