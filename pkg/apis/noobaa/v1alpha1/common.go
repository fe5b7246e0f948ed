package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels, finalizers and names the operator uses.
const (
	// LabelApp is the label every NooBaa object carries (app: noobaa).
	LabelApp = "app"
	// LabelAppValue is the value of LabelApp.
	LabelAppValue = "noobaa"
	// Finalizer is the operator's finalizer on stores and classes.
	Finalizer = "noobaa.io/finalizer"
	// SystemName is the name of the NooBaa system CR.
	SystemName = "noobaa"
	// DefaultNamespace is where NooBaa runs when nothing else says.
	DefaultNamespace = "noobaa"
	// AnnotationSecretFor marks a credential Secret nb made for a store,
	// as "Kind/name" (BackingStore/aws1): until the store owns it (its
	// ownerReference), such a Secret left by a failed create is nb's to
	// replace on the next create and to delete with the store's name.
	AnnotationSecretFor = "nb.noobaa.io/secret-for"
)

// StoreType is the spec.type of a BackingStore or NamespaceStore.
type StoreType string

// Store types. The STS variants are spelled by the CLI only: on the CR they
// are aws-s3, azure-blob and google-cloud-storage with different fields.
const (
	StoreTypeAWSS3              StoreType = "aws-s3"
	StoreTypeS3Compatible       StoreType = "s3-compatible"
	StoreTypeIBMCos             StoreType = "ibm-cos"
	StoreTypeAzureBlob          StoreType = "azure-blob"
	StoreTypeGoogleCloudStorage StoreType = "google-cloud-storage"
	StoreTypePVPool             StoreType = "pv-pool"
	StoreTypeNSFS               StoreType = "nsfs"
)

// S3SignatureVersion is the AWS signature version of an S3 endpoint.
type S3SignatureVersion string

// Signature versions.
const (
	S3SignatureVersionV4 S3SignatureVersion = "v4"
	S3SignatureVersionV2 S3SignatureVersion = "v2"
)

// AWSS3Spec is an AWS S3 bucket, with static keys or an STS role.
type AWSS3Spec struct {
	TargetBucket  string                  `json:"targetBucket"`
	Secret        *corev1.SecretReference `json:"secret,omitempty"`
	Region        string                  `json:"region,omitempty"`
	SSLDisabled   bool                    `json:"sslDisabled,omitempty"`
	AWSSTSRoleARN *string                 `json:"awsSTSRoleARN,omitempty"`
}

// S3CompatibleSpec is a bucket on any S3-compatible endpoint.
type S3CompatibleSpec struct {
	TargetBucket     string                 `json:"targetBucket"`
	Secret           corev1.SecretReference `json:"secret"`
	Endpoint         string                 `json:"endpoint"`
	SignatureVersion S3SignatureVersion     `json:"signatureVersion,omitempty"`
}

// IBMCosSpec is a bucket on IBM Cloud Object Storage.
type IBMCosSpec struct {
	TargetBucket     string                 `json:"targetBucket"`
	Secret           corev1.SecretReference `json:"secret"`
	Endpoint         string                 `json:"endpoint"`
	SignatureVersion S3SignatureVersion     `json:"signatureVersion,omitempty"`
}

// AzureBlobSpec is an Azure blob container, with an account key or STS.
type AzureBlobSpec struct {
	TargetBlobContainer string                  `json:"targetBlobContainer"`
	Secret              *corev1.SecretReference `json:"secret,omitempty"`
	ClientID            *string                 `json:"clientId,omitempty"`
	TenantID            *string                 `json:"tenantId,omitempty"`
	SubscriptionID      *string                 `json:"subscriptionId,omitempty"`
	ResourceGroupID     *string                 `json:"resourcegroupId,omitempty"`
}

// GoogleCloudStorageSpec is a Google Cloud Storage bucket.
type GoogleCloudStorageSpec struct {
	TargetBucket string                 `json:"targetBucket"`
	Secret       corev1.SecretReference `json:"secret"`
}

// ModeInfo is the operator's copy of the core pool mode.
type ModeInfo struct {
	ModeCode  string `json:"modeCode,omitempty"`
	TimeStamp string `json:"timeStamp,omitempty"`
}

// Condition is one of the operator's conditions (openshift conditionsv1).
type Condition struct {
	Type               string                 `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
	LastHeartbeatTime  metav1.Time            `json:"lastHeartbeatTime,omitempty"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime,omitempty"`
}

// Condition types the operator writes on every phase change.
const (
	ConditionAvailable   = "Available"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
	ConditionUpgradeable = "Upgradeable"
)
