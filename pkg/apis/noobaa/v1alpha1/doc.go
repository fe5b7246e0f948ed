// Package v1alpha1 holds nb's own Go types for the noobaa.io/v1alpha1 API
// group: BackingStore, NamespaceStore and BucketClass. The field names and
// required fields follow the CRDs in pkg/apis/crds exactly; the operator's
// own Go module is not used.
//
// +kubebuilder:object:generate=true
// +groupName=noobaa.io
package v1alpha1
