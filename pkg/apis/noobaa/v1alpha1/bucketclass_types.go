package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TierPlacement is how a tier places data on its stores.
type TierPlacement string

// Tier placements. An empty placement means a single store.
const (
	TierPlacementSpread TierPlacement = "Spread"
	TierPlacementMirror TierPlacement = "Mirror"
)

// NamespacePolicyType is spec.namespacePolicy.type.
type NamespacePolicyType string

// Namespace policy types.
const (
	NamespacePolicyTypeSingle NamespacePolicyType = "Single"
	NamespacePolicyTypeMulti  NamespacePolicyType = "Multi"
	NamespacePolicyTypeCache  NamespacePolicyType = "Cache"
)

// BucketClassPhase is status.phase of a BucketClass.
type BucketClassPhase string

// BucketClass phases.
const (
	BucketClassPhaseRejected    BucketClassPhase = "Rejected"
	BucketClassPhaseVerifying   BucketClassPhase = "Verifying"
	BucketClassPhaseConfiguring BucketClassPhase = "Configuring"
	BucketClassPhaseReady       BucketClassPhase = "Ready"
	BucketClassPhaseDeleting    BucketClassPhase = "Deleting"
)

// +kubebuilder:object:root=true

// BucketClass is a data placement policy that buckets are created with.
type BucketClass struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BucketClassSpec   `json:"spec"`
	Status BucketClassStatus `json:"status,omitempty"`
}

// BucketClassSpec is either a placement policy (with an optional namespace
// cache policy) or a namespace policy.
type BucketClassSpec struct {
	PlacementPolicy   *PlacementPolicy `json:"placementPolicy,omitempty"`
	NamespacePolicy   *NamespacePolicy `json:"namespacePolicy,omitempty"`
	Quota             *Quota           `json:"quota,omitempty"`
	ReplicationPolicy string           `json:"replicationPolicy,omitempty"`
	ArchivePolicy     *ArchivePolicy   `json:"archivePolicy,omitempty"`
}

// PlacementPolicy is one or two tiers of backing stores.
type PlacementPolicy struct {
	Tiers []Tier `json:"tiers,omitempty"`
}

// Tier is a set of backing stores and how data is placed across them.
type Tier struct {
	Placement     TierPlacement `json:"placement,omitempty"`
	BackingStores []string      `json:"backingStores,omitempty"`
}

// NamespacePolicy serves a bucket from namespace stores.
type NamespacePolicy struct {
	Type   NamespacePolicyType    `json:"type,omitempty"`
	Single *SingleNamespacePolicy `json:"single,omitempty"`
	Multi  *MultiNamespacePolicy  `json:"multi,omitempty"`
	Cache  *CacheNamespacePolicy  `json:"cache,omitempty"`
}

// SingleNamespacePolicy reads and writes one namespace store.
type SingleNamespacePolicy struct {
	Resource string `json:"resource,omitempty"`
}

// MultiNamespacePolicy reads from many stores and writes to at most one.
type MultiNamespacePolicy struct {
	ReadResources []string `json:"readResources,omitempty"`
	WriteResource string   `json:"writeResource,omitempty"`
}

// CacheNamespacePolicy caches a hub store on the placement tier.
type CacheNamespacePolicy struct {
	HubResource string     `json:"hubResource,omitempty"`
	Caching     *CacheSpec `json:"caching,omitempty"`
}

// CacheSpec is how long and what the cache keeps.
type CacheSpec struct {
	// TTL in milliseconds: negative never revalidates, 0 always compares ETags.
	TTL    int    `json:"ttl,omitempty"`
	Prefix string `json:"prefix,omitempty"`
}

// Quota limits a bucket's size and object count.
type Quota struct {
	MaxSize    string `json:"maxSize,omitempty"`
	MaxObjects string `json:"maxObjects,omitempty"`
}

// ArchivePolicy moves data to a deep-archive namespace store.
type ArchivePolicy struct {
	DeepArchiveResource string `json:"deepArchiveResource,omitempty"`
}

// BucketClassStatus is what the operator reports.
type BucketClassStatus struct {
	Phase          BucketClassPhase         `json:"phase,omitempty"`
	Conditions     []Condition              `json:"conditions,omitempty"`
	RelatedObjects []corev1.ObjectReference `json:"relatedObjects,omitempty"`
	Mode           string                   `json:"mode,omitempty"`
}

// +kubebuilder:object:root=true

// BucketClassList is a list of BucketClasses.
type BucketClassList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BucketClass `json:"items"`
}
