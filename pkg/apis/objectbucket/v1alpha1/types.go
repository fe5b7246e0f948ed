package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of bucket claims.
var GroupVersion = schema.GroupVersion{Group: "objectbucket.io", Version: "v1alpha1"}

// Kinds and resources of the objectbucket.io group.
var (
	ObjectBucketClaimGVK = GroupVersion.WithKind("ObjectBucketClaim")
	ObjectBucketGVK      = GroupVersion.WithKind("ObjectBucket")
	ObjectBucketClaimGVR = GroupVersion.WithResource("objectbucketclaims")
	ObjectBucketGVR      = GroupVersion.WithResource("objectbuckets")
)

// AddToScheme registers the types of this group with a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ObjectBucketClaim{}, &ObjectBucketClaimList{},
		&ObjectBucket{}, &ObjectBucketList{},
	)
	return nil
}

// Keys of an OBC's spec.additionalConfig that NooBaa's provisioner reads.
const (
	ConfigBucketClass       = "bucketclass"
	ConfigPath              = "path"
	ConfigReplicationPolicy = "replicationPolicy"
	ConfigMaxSize           = "maxSize"
	ConfigMaxObjects        = "maxObjects"
	ConfigNSFSAccount       = "nsfsAccountConfig"
	ConfigBucketType        = "bucketType"
)

// Keys of the ConfigMap and Secret a provisioner creates for a bound claim.
const (
	BucketHost      = "BUCKET_HOST"
	BucketPort      = "BUCKET_PORT"
	BucketName      = "BUCKET_NAME"
	BucketRegion    = "BUCKET_REGION"
	BucketSubRegion = "BUCKET_SUBREGION"
	AccessKeyID     = "AWS_ACCESS_KEY_ID"
	SecretAccessKey = "AWS_SECRET_ACCESS_KEY"
)

// ObjectBucketClaimPhase is status.phase of a claim.
type ObjectBucketClaimPhase string

// Claim phases (the CRD's enum).
const (
	ClaimPhasePending  ObjectBucketClaimPhase = "Pending"
	ClaimPhaseBound    ObjectBucketClaimPhase = "Bound"
	ClaimPhaseReleased ObjectBucketClaimPhase = "Released"
	ClaimPhaseFailed   ObjectBucketClaimPhase = "Failed"
)

// +kubebuilder:object:root=true

// ObjectBucketClaim asks a provisioner for a bucket.
type ObjectBucketClaim struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ObjectBucketClaimSpec   `json:"spec"`
	Status ObjectBucketClaimStatus `json:"status,omitempty"`
}

// ObjectBucketClaimSpec names the bucket (exactly or by prefix) and class.
type ObjectBucketClaimSpec struct {
	StorageClassName   string            `json:"storageClassName"`
	BucketName         string            `json:"bucketName,omitempty"`
	GenerateBucketName string            `json:"generateBucketName,omitempty"`
	AdditionalConfig   map[string]string `json:"additionalConfig,omitempty"`
	ObjectBucketName   string            `json:"objectBucketName,omitempty"`
}

// ObjectBucketClaimStatus is what the provisioner reports.
type ObjectBucketClaimStatus struct {
	Phase ObjectBucketClaimPhase `json:"phase,omitempty"`
}

// +kubebuilder:object:root=true

// ObjectBucketClaimList is a list of claims.
type ObjectBucketClaimList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ObjectBucketClaim `json:"items"`
}

// ReclaimPolicy says what happens to a bucket when its claim goes.
type ReclaimPolicy string

// Reclaim policies (the CRD's enum).
const (
	ReclaimDelete  ReclaimPolicy = "Delete"
	ReclaimRetain  ReclaimPolicy = "Retain"
	ReclaimRecycle ReclaimPolicy = "Recycle"
)

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster

// ObjectBucket is the cluster-scoped record of a provisioned bucket.
type ObjectBucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ObjectBucketSpec   `json:"spec"`
	Status ObjectBucketStatus `json:"status,omitempty"`
}

// ObjectBucketSpec is where a bucket is and which claim holds it.
type ObjectBucketSpec struct {
	StorageClassName string                  `json:"storageClassName"`
	ClaimRef         *corev1.ObjectReference `json:"claimRef,omitempty"`
	ReclaimPolicy    ReclaimPolicy           `json:"reclaimPolicy,omitempty"`
	Endpoint         *Endpoint               `json:"endpoint,omitempty"`
	AdditionalState  map[string]string       `json:"additionalState,omitempty"`
}

// Endpoint is how an application reaches a bucket.
type Endpoint struct {
	BucketHost       string            `json:"bucketHost,omitempty"`
	BucketPort       int               `json:"bucketPort,omitempty"`
	BucketName       string            `json:"bucketName,omitempty"`
	Region           string            `json:"region,omitempty"`
	SubRegion        string            `json:"subRegion,omitempty"`
	AdditionalConfig map[string]string `json:"additionalConfig,omitempty"`
}

// ObjectBucketStatus is the bucket's phase.
type ObjectBucketStatus struct {
	Phase string `json:"phase,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster

// ObjectBucketList is a list of ObjectBuckets.
type ObjectBucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ObjectBucket `json:"items"`
}

// EndpointURL is the S3 URL of a claim's BUCKET_HOST and BUCKET_PORT, as
// NooBaa means them: https on 443 (its s3 service), plain http on any
// other port.
func EndpointURL(host, port string) string {
	switch port {
	case "", "443":
		return "https://" + host
	case "80":
		return "http://" + host
	}
	return "http://" + host + ":" + port
}
