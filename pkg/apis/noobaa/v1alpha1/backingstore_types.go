package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BackingStorePhase is status.phase of a BackingStore or NamespaceStore.
type BackingStorePhase string

// Store phases.
const (
	StorePhaseRejected   BackingStorePhase = "Rejected"
	StorePhaseVerifying  BackingStorePhase = "Verifying"
	StorePhaseConnecting BackingStorePhase = "Connecting"
	StorePhaseCreating   BackingStorePhase = "Creating"
	StorePhaseReady      BackingStorePhase = "Ready"
	StorePhaseDeleting   BackingStorePhase = "Deleting"
)

// +kubebuilder:object:root=true

// BackingStore is storage that NooBaa places bucket data on.
type BackingStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BackingStoreSpec   `json:"spec"`
	Status BackingStoreStatus `json:"status,omitempty"`
}

// BackingStoreSpec says which storage a BackingStore uses. Exactly one of
// the type-specific fields is set, the one that matches Type.
type BackingStoreSpec struct {
	Type               StoreType               `json:"type"`
	AWSS3              *AWSS3Spec              `json:"awsS3,omitempty"`
	S3Compatible       *S3CompatibleSpec       `json:"s3Compatible,omitempty"`
	IBMCos             *IBMCosSpec             `json:"ibmCos,omitempty"`
	AzureBlob          *AzureBlobSpec          `json:"azureBlob,omitempty"`
	GoogleCloudStorage *GoogleCloudStorageSpec `json:"googleCloudStorage,omitempty"`
	PVPool             *PVPoolSpec             `json:"pvPool,omitempty"`
}

// PVPoolSpec is a pool of persistent volumes run by NooBaa agent pods.
type PVPoolSpec struct {
	StorageClass      string                             `json:"storageClass,omitempty"`
	NumVolumes        int                                `json:"numVolumes"`
	Resources         *corev1.VolumeResourceRequirements `json:"resources,omitempty"`
	PriorityClassName string                             `json:"priorityClassName,omitempty"`
	Secret            *corev1.SecretReference            `json:"secret,omitempty"`
}

// BackingStoreStatus is what the operator reports.
type BackingStoreStatus struct {
	Phase          BackingStorePhase        `json:"phase,omitempty"`
	Conditions     []Condition              `json:"conditions,omitempty"`
	RelatedObjects []corev1.ObjectReference `json:"relatedObjects,omitempty"`
	Mode           ModeInfo                 `json:"mode,omitempty"`
}

// +kubebuilder:object:root=true

// BackingStoreList is a list of BackingStores.
type BackingStoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BackingStore `json:"items"`
}
