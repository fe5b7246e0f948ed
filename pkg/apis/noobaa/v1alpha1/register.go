package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of the NooBaa CRs.
var GroupVersion = schema.GroupVersion{Group: "noobaa.io", Version: "v1alpha1"}

// Kinds and resources of the noobaa.io group that nb manages.
var (
	BackingStoreGVK   = GroupVersion.WithKind("BackingStore")
	NamespaceStoreGVK = GroupVersion.WithKind("NamespaceStore")
	BucketClassGVK    = GroupVersion.WithKind("BucketClass")

	BackingStoreGVR   = GroupVersion.WithResource("backingstores")
	NamespaceStoreGVR = GroupVersion.WithResource("namespacestores")
	BucketClassGVR    = GroupVersion.WithResource("bucketclasses")
	NooBaaGVR         = GroupVersion.WithResource("noobaas")
)

// AddToScheme registers the types of this group with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&BackingStore{}, &BackingStoreList{},
		&NamespaceStore{}, &NamespaceStoreList{},
		&BucketClass{}, &BucketClassList{},
	)
	return nil
}
