package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccessMode is spec.accessMode of a NamespaceStore.
type AccessMode string

// Access modes.
const (
	AccessModeReadWrite AccessMode = "ReadWrite"
	AccessModeReadOnly  AccessMode = "ReadOnly"
)

// NSFSBackend is the file system under an nsfs NamespaceStore.
type NSFSBackend string

// File system backends of nsfs stores (the CRD's enum).
const (
	NSFSBackendCephFS NSFSBackend = "CEPH_FS"
	NSFSBackendGPFS   NSFSBackend = "GPFS"
	NSFSBackendNFSv4  NSFSBackend = "NFSv4"
)

// +kubebuilder:object:root=true

// NamespaceStore is storage whose objects NooBaa serves as they are.
type NamespaceStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   NamespaceStoreSpec   `json:"spec"`
	Status NamespaceStoreStatus `json:"status,omitempty"`
}

// NamespaceStoreSpec says which storage a NamespaceStore uses.
type NamespaceStoreSpec struct {
	Type               StoreType               `json:"type"`
	AccessMode         AccessMode              `json:"accessMode,omitempty"`
	Archive            bool                    `json:"archive,omitempty"`
	AWSS3              *AWSS3Spec              `json:"awsS3,omitempty"`
	S3Compatible       *S3CompatibleSpec       `json:"s3Compatible,omitempty"`
	IBMCos             *IBMCosSpec             `json:"ibmCos,omitempty"`
	AzureBlob          *AzureBlobSpec          `json:"azureBlob,omitempty"`
	GoogleCloudStorage *GoogleCloudStorageSpec `json:"googleCloudStorage,omitempty"`
	NSFS               *NSFSSpec               `json:"nsfs,omitempty"`
}

// NSFSSpec is a file system exported through a PVC.
type NSFSSpec struct {
	PvcName   string      `json:"pvcName"`
	SubPath   string      `json:"subPath,omitempty"`
	FsBackend NSFSBackend `json:"fsBackend,omitempty"`
}

// NamespaceStoreStatus is what the operator reports.
type NamespaceStoreStatus struct {
	Phase          BackingStorePhase        `json:"phase,omitempty"`
	Conditions     []Condition              `json:"conditions,omitempty"`
	RelatedObjects []corev1.ObjectReference `json:"relatedObjects,omitempty"`
	Mode           ModeInfo                 `json:"mode,omitempty"`
}

// +kubebuilder:object:root=true

// NamespaceStoreList is a list of NamespaceStores.
type NamespaceStoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NamespaceStore `json:"items"`
}
