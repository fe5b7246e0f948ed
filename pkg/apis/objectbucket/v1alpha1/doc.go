// Package v1alpha1 holds nb's own Go types for objectbucket.io/v1alpha1:
// ObjectBucketClaim and ObjectBucket, as the CRDs in pkg/apis/crds define
// them (lib-bucket-provisioner's module is not used).
//
// +kubebuilder:object:generate=true
// +groupName=objectbucket.io
package v1alpha1
