package manifest

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/credentials"
	"github.com/nbctl/nb/pkg/exitcode"
)

// StoreKind says whether a store is a BackingStore or a NamespaceStore.
type StoreKind int

// Store kinds.
const (
	Backing StoreKind = iota
	Namespace
)

func (k StoreKind) String() string {
	if k == Namespace {
		return "NamespaceStore"
	}
	return "BackingStore"
}

// secretPrefix is the operator's naming of the Secrets its CLI creates.
func (k StoreKind) secretPrefix() string {
	if k == Namespace {
		return "namespace-store"
	}
	return "backing-store"
}

// Secret keys the operator reads.
const (
	KeyAWSAccessKeyID        = "AWS_ACCESS_KEY_ID"
	KeyAWSSecretAccessKey    = "AWS_SECRET_ACCESS_KEY"
	KeyIBMAccessKeyID        = "IBM_COS_ACCESS_KEY_ID"
	KeyIBMSecretAccessKey    = "IBM_COS_SECRET_ACCESS_KEY"
	KeyAzureAccountName      = "AccountName"
	KeyAzureAccountKey       = "AccountKey"
	KeyAzureTenantID         = "azure_tenant_id"
	KeyAzureClientID         = "azure_client_id"
	KeyGoogleServiceAccount  = "GoogleServiceAccountPrivateKeyJson"
	KeyGoogleCredentialsJSON = "GoogleCredentialsJson"
)

// StoreType describes one type of `nb backingstore|namespacestore create`.
type StoreType struct {
	// Name is the CLI type, e.g. aws-sts-s3.
	Name string
	// CRType is spec.type on the CR (the STS variants share their base type).
	CRType nbv1.StoreType
	Short  string
	// Kinds lists which store kinds offer this type.
	Kinds []StoreKind
	// Credentials are the Secret's values, when the type takes a Secret
	// of credentials the user supplies.
	Credentials []credentials.Field
}

func awsKeys(accessKey, secretKey string, env ...string) []credentials.Field {
	return []credentials.Field{
		{Key: accessKey, Flag: "access-key", Env: []string{env[0]}, Label: "Access key ID", Hidden: true, Role: credentials.RoleAccessKey},
		{Key: secretKey, Flag: "secret-key", Env: []string{env[1]}, Label: "Secret access key", Hidden: true, Role: credentials.RoleSecretKey},
	}
}

// StoreTypes lists every store type nb creates, in help order.
var StoreTypes = []StoreType{
	{Name: "aws-s3", CRType: nbv1.StoreTypeAWSS3, Short: "an AWS S3 bucket with an access key pair", Kinds: []StoreKind{Backing, Namespace},
		Credentials: awsKeys(KeyAWSAccessKeyID, KeyAWSSecretAccessKey, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
	{Name: "aws-sts-s3", CRType: nbv1.StoreTypeAWSS3, Short: "an AWS S3 bucket reached by assuming an IAM role (STS)", Kinds: []StoreKind{Backing, Namespace}},
	{Name: "s3-compatible", CRType: nbv1.StoreTypeS3Compatible, Short: "a bucket on any S3-compatible endpoint", Kinds: []StoreKind{Backing, Namespace},
		Credentials: awsKeys(KeyAWSAccessKeyID, KeyAWSSecretAccessKey, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")},
	{Name: "ibm-cos", CRType: nbv1.StoreTypeIBMCos, Short: "an IBM Cloud Object Storage bucket with HMAC keys", Kinds: []StoreKind{Backing, Namespace},
		Credentials: awsKeys(KeyIBMAccessKeyID, KeyIBMSecretAccessKey, "IBM_COS_ACCESS_KEY_ID", "IBM_COS_SECRET_ACCESS_KEY")},
	{Name: "azure-blob", CRType: nbv1.StoreTypeAzureBlob, Short: "an Azure blob container with a storage account key", Kinds: []StoreKind{Backing, Namespace},
		Credentials: []credentials.Field{
			{Key: KeyAzureAccountName, Flag: "account-name", Env: []string{"AZURE_STORAGE_ACCOUNT"}, Label: "Storage account name", Hidden: true},
			{Key: KeyAzureAccountKey, Flag: "account-key", Env: []string{"AZURE_STORAGE_KEY"}, Label: "Storage account key", Hidden: true},
		}},
	{Name: "azure-sts-blob", CRType: nbv1.StoreTypeAzureBlob, Short: "an Azure blob container reached with workload identity (STS)", Kinds: []StoreKind{Backing, Namespace},
		Credentials: []credentials.Field{
			{Key: KeyAzureAccountName, Flag: "account-name", Env: []string{"AZURE_STORAGE_ACCOUNT"}, Label: "Storage account name"},
			{Key: KeyAzureTenantID, Flag: "tenant-id", Env: []string{"AZURE_TENANT_ID"}, Label: "Azure tenant ID"},
			{Key: KeyAzureClientID, Flag: "client-id", Env: []string{"AZURE_CLIENT_ID"}, Label: "Azure client ID"},
		}},
	{Name: "google-cloud-storage", CRType: nbv1.StoreTypeGoogleCloudStorage, Short: "a Google Cloud Storage bucket with a service-account key", Kinds: []StoreKind{Backing}},
	{Name: "google-cloud-storage-sts", CRType: nbv1.StoreTypeGoogleCloudStorage, Short: "a Google Cloud Storage bucket reached with workload identity federation", Kinds: []StoreKind{Backing}},
	{Name: "pv-pool", CRType: nbv1.StoreTypePVPool, Short: "a pool of persistent volumes run by NooBaa agents", Kinds: []StoreKind{Backing}},
	{Name: "nsfs", CRType: nbv1.StoreTypeNSFS, Short: "a file system on a PVC served as buckets (NSFS)", Kinds: []StoreKind{Namespace}},
}

// TypesFor returns the types a store kind offers.
func TypesFor(k StoreKind) []StoreType {
	var out []StoreType
	for _, t := range StoreTypes {
		for _, tk := range t.Kinds {
			if tk == k {
				out = append(out, t)
			}
		}
	}
	return out
}

// LookupStoreType finds a type by its CLI name for a kind.
func LookupStoreType(k StoreKind, name string) (StoreType, bool) {
	for _, t := range TypesFor(k) {
		if t.Name == name {
			return t, true
		}
	}
	return StoreType{}, false
}

// Store is what `nb backingstore|namespacestore create TYPE NAME` was asked
// for; field names follow the flags.
type Store struct {
	Kind      StoreKind
	Type      string
	Name      string
	Namespace string

	TargetBucket        string
	TargetBlobContainer string
	Region              string
	Endpoint            string
	SignatureVersion    string
	AWSSTSRoleARN       string

	// SecretName reuses an existing Secret instead of creating one.
	SecretName string
	// SecretData is the content of the Secret to create (credentials
	// resolved from flags, a file, the environment or a prompt).
	SecretData map[string]string

	// google-cloud-storage-sts
	ServiceAccountEmail string
	ProjectNumber       string
	PoolID              string
	ProviderID          string

	// pv-pool
	NumVolumes    int
	PVSizeGB      int
	StorageClass  string
	RequestCPU    string
	RequestMemory string
	LimitCPU      string
	LimitMemory   string

	// NamespaceStore only
	AccessMode string
	Archive    bool
	FSBackend  string
	SubPath    string
	PVCName    string
}

// StoreType returns the type's description (zero if unknown).
func (s *Store) StoreType() StoreType {
	t, _ := LookupStoreType(s.Kind, s.Type)
	return t
}

// NeedsCredentials reports whether the caller must resolve SecretData
// before Build: the type takes user credentials and no Secret is reused.
func (s *Store) NeedsCredentials() bool {
	return s.SecretName == "" && len(s.StoreType().Credentials) > 0
}

// SecretObjectName is the name of the credentials Secret the store uses:
// the reused one, or the operator's naming for a new one.
func (s *Store) SecretObjectName() string {
	if s.SecretName != "" {
		return s.SecretName
	}
	return fmt.Sprintf("%s-%s-%s", s.Kind.secretPrefix(), s.StoreType().CRType, s.Name)
}

// Validate checks everything but the credentials' values, which may still
// have to be resolved.
func (s *Store) Validate() error {
	t, ok := LookupStoreType(s.Kind, s.Type)
	if !ok {
		var names []string
		for _, t := range TypesFor(s.Kind) {
			names = append(names, t.Name)
		}
		return exitcode.Usagef("TYPE", "unknown %s type %q: use one of %s", strings.ToLower(s.Kind.String()), s.Type, strings.Join(names, ", "))
	}
	if err := ValidateName("NAME", s.Kind.String(), s.Name); err != nil {
		return err
	}
	if err := ValidateNamespace("--namespace", s.Namespace); err != nil {
		return err
	}
	if s.SecretName != "" {
		if len(t.Credentials) == 0 && t.Name != "google-cloud-storage" && t.Name != "google-cloud-storage-sts" {
			return exitcode.Usagef("--secret-name", "type %s takes no credentials Secret: leave --secret-name out", t.Name)
		}
		if err := ValidateName("--secret-name", "Secret", s.SecretName); err != nil {
			return err
		}
	}
	switch t.Name {
	case "aws-s3", "aws-sts-s3":
		if err := ValidateS3BucketName("--target-bucket", s.TargetBucket); err != nil {
			return err
		}
		if err := ValidateRegion("--region", s.Region); err != nil {
			return err
		}
		if t.Name == "aws-sts-s3" {
			if err := required("--aws-sts-arn", s.AWSSTSRoleARN, "the IAM role ARN to assume"); err != nil {
				return err
			}
			if !arn.IsARN(s.AWSSTSRoleARN) || !strings.Contains(s.AWSSTSRoleARN, ":role/") {
				return exitcode.Usagef("--aws-sts-arn", "invalid role ARN %q: use arn:aws:iam::ACCOUNT:role/NAME", s.AWSSTSRoleARN)
			}
		}
	case "s3-compatible", "ibm-cos":
		check := validateLooseBucket
		if t.Name == "ibm-cos" {
			check = ValidateS3BucketName
		}
		if err := required("--target-bucket", s.TargetBucket, "the target bucket"); err != nil {
			return err
		}
		if err := check("--target-bucket", s.TargetBucket); err != nil {
			return err
		}
		if err := ValidateEndpoint("--endpoint", s.Endpoint); err != nil {
			return err
		}
		if err := ValidateSignatureVersion("--signature-version", s.SignatureVersion); err != nil {
			return err
		}
	case "azure-blob", "azure-sts-blob":
		if err := required("--target-blob-container", s.TargetBlobContainer, "the target blob container"); err != nil {
			return err
		}
		if err := validateAzureContainer("--target-blob-container", s.TargetBlobContainer); err != nil {
			return err
		}
	case "google-cloud-storage", "google-cloud-storage-sts":
		if err := required("--target-bucket", s.TargetBucket, "the target bucket"); err != nil {
			return err
		}
		if err := validateGCSBucket("--target-bucket", s.TargetBucket); err != nil {
			return err
		}
		if t.Name == "google-cloud-storage-sts" && s.SecretName == "" {
			for _, f := range []struct{ flag, v string }{
				{"--service-account-email", s.ServiceAccountEmail}, {"--project-number", s.ProjectNumber},
				{"--pool-id", s.PoolID}, {"--provider-id", s.ProviderID},
			} {
				if err := required(f.flag, f.v, "workload identity federation needs "+strings.TrimPrefix(f.flag, "--")+"; it"); err != nil {
					return err
				}
			}
			if !isDigits(s.ProjectNumber) {
				return exitcode.Usagef("--project-number", "invalid project number %q: use the numeric project number, not the project ID", s.ProjectNumber)
			}
			if !strings.Contains(s.ServiceAccountEmail, "@") {
				return exitcode.Usagef("--service-account-email", "invalid service account %q: use NAME@PROJECT.iam.gserviceaccount.com", s.ServiceAccountEmail)
			}
		}
	case "pv-pool":
		return s.validatePVPool()
	case "nsfs":
		if err := required("--pvc-name", s.PVCName, "the PVC holding the file system"); err != nil {
			return err
		}
		if err := ValidateName("--pvc-name", "PersistentVolumeClaim", s.PVCName); err != nil {
			return err
		}
		if s.FSBackend != "" {
			v, err := oneOf("--fs-backend", s.FSBackend, string(nbv1.NSFSBackendCephFS), string(nbv1.NSFSBackendGPFS), string(nbv1.NSFSBackendNFSv4))
			if err != nil {
				return err
			}
			s.FSBackend = v
		}
		if s.SubPath != "" && !relativePath(s.SubPath) {
			return exitcode.Usagef("--sub-path", "invalid sub-path %q: use a relative path inside the PVC, without ..", s.SubPath)
		}
	}
	if s.Kind == Namespace {
		mode := s.AccessMode
		if mode == "" {
			mode = "read-write"
		}
		v, err := oneOf("--access-mode", mode, "read-write", "read-only")
		if err != nil {
			return err
		}
		s.AccessMode = v
		if s.Archive && t.Name != "s3-compatible" {
			return exitcode.Usagef("--archive", "only s3-compatible namespace stores can be deep-archive targets")
		}
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (s *Store) validatePVPool() error {
	if len(s.Name) > MaxPVPoolNameLength {
		return exitcode.Usagef("NAME", "pv-pool name %q is %d characters; the operator allows at most %d (pod and PVC names derive from it)", s.Name, len(s.Name), MaxPVPoolNameLength)
	}
	if s.NumVolumes == 0 {
		return exitcode.Usagef("--num-volumes", "--num-volumes is required: how many volumes (%d-%d), e.g. --num-volumes 1", MinPVPoolVolumes, MaxPVPoolVolumes)
	}
	if s.PVSizeGB == 0 {
		return exitcode.Usagef("--pv-size-gb", "--pv-size-gb is required: each volume's size in GiB (%d-%d), e.g. --pv-size-gb 16", MinPVSizeGB, MaxPVSizeGB)
	}
	if s.NumVolumes < MinPVPoolVolumes || s.NumVolumes > MaxPVPoolVolumes {
		return exitcode.Usagef("--num-volumes", "must be between %d and %d (got %d)", MinPVPoolVolumes, MaxPVPoolVolumes, s.NumVolumes)
	}
	if s.PVSizeGB < MinPVSizeGB || s.PVSizeGB > MaxPVSizeGB {
		return exitcode.Usagef("--pv-size-gb", "must be between %d and %d (got %d)", MinPVSizeGB, MaxPVSizeGB, s.PVSizeGB)
	}
	if s.StorageClass != "" {
		if err := ValidateName("--storage-class", "StorageClass", s.StorageClass); err != nil {
			return err
		}
	}
	reqCPU, err := parseQuantity("--request-cpu", s.RequestCPU)
	if err != nil {
		return err
	}
	reqMem, err := parseQuantity("--request-memory", s.RequestMemory)
	if err != nil {
		return err
	}
	limCPU, err := parseQuantity("--limit-cpu", s.LimitCPU)
	if err != nil {
		return err
	}
	limMem, err := parseQuantity("--limit-memory", s.LimitMemory)
	if err != nil {
		return err
	}
	if reqCPU != nil && limCPU != nil && reqCPU.Cmp(*limCPU) > 0 {
		return exitcode.Usagef("--request-cpu", "request %s is larger than --limit-cpu %s: lower the request or raise the limit", s.RequestCPU, s.LimitCPU)
	}
	if reqMem != nil && limMem != nil && reqMem.Cmp(*limMem) > 0 {
		return exitcode.Usagef("--request-memory", "request %s is larger than --limit-memory %s: lower the request or raise the limit", s.RequestMemory, s.LimitMemory)
	}
	return nil
}

// StoreObjects are what one store create makes: the credentials Secret
// (nil when a Secret is reused or none is needed) and the store CR.
type StoreObjects struct {
	Secret         *corev1.Secret
	BackingStore   *nbv1.BackingStore
	NamespaceStore *nbv1.NamespaceStore
}

// Store returns the store CR, whichever kind it is.
func (o *StoreObjects) Store() runtime.Object {
	if o.NamespaceStore != nil {
		return o.NamespaceStore
	}
	return o.BackingStore
}

// Build makes the objects. Call Validate first, and resolve SecretData
// when NeedsCredentials says so.
func (s *Store) Build() (*StoreObjects, error) {
	t := s.StoreType()
	if s.NeedsCredentials() {
		for _, f := range t.Credentials {
			if s.SecretData[f.Key] == "" {
				return nil, exitcode.Usagef("--"+f.Flag, "%s is required", f.Label)
			}
		}
	}
	ref := &corev1.SecretReference{Name: s.SecretObjectName(), Namespace: s.Namespace}
	var secret *corev1.Secret
	if s.SecretName == "" {
		switch {
		case len(t.Credentials) > 0, t.Name == "google-cloud-storage":
			secret = newSecret(ref, s.Kind, s.Name, s.SecretData)
		case t.Name == "google-cloud-storage-sts":
			doc, err := googleWIFCredentials(s.ProjectNumber, s.PoolID, s.ProviderID, s.ServiceAccountEmail)
			if err != nil {
				return nil, err
			}
			secret = newSecret(ref, s.Kind, s.Name, map[string]string{KeyGoogleCredentialsJSON: doc})
		case t.Name == "pv-pool":
			// The operator's CLI creates this Secret empty; the operator
			// later writes the agents' configuration into it.
			secret = newSecret(ref, s.Kind, s.Name, nil)
		}
	}
	if secret == nil && s.SecretName == "" {
		ref = nil
	}

	meta := metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: map[string]string{nbv1.LabelApp: nbv1.LabelAppValue}}
	out := &StoreObjects{Secret: secret}
	switch s.Kind {
	case Backing:
		spec, err := s.backingSpec(t, ref)
		if err != nil {
			return nil, err
		}
		out.BackingStore = &nbv1.BackingStore{
			TypeMeta:   metav1.TypeMeta{APIVersion: nbv1.GroupVersion.String(), Kind: "BackingStore"},
			ObjectMeta: meta,
			Spec:       spec,
		}
	case Namespace:
		spec := s.namespaceSpec(t, ref)
		out.NamespaceStore = &nbv1.NamespaceStore{
			TypeMeta:   metav1.TypeMeta{APIVersion: nbv1.GroupVersion.String(), Kind: "NamespaceStore"},
			ObjectMeta: meta,
			Spec:       spec,
		}
	}
	return out, nil
}

func newSecret(ref *corev1.SecretReference, kind StoreKind, store string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ref.Name, Namespace: ref.Namespace,
			Labels:      map[string]string{nbv1.LabelApp: nbv1.LabelAppValue},
			Annotations: map[string]string{nbv1.AnnotationSecretFor: kind.String() + "/" + store},
		},
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	}
}

func (s *Store) cloudSpecs(t StoreType, ref *corev1.SecretReference) (aws *nbv1.AWSS3Spec, s3c *nbv1.S3CompatibleSpec, ibm *nbv1.IBMCosSpec, az *nbv1.AzureBlobSpec, gcs *nbv1.GoogleCloudStorageSpec) {
	switch t.Name {
	case "aws-s3":
		aws = &nbv1.AWSS3Spec{TargetBucket: s.TargetBucket, Region: s.Region, Secret: ref}
	case "aws-sts-s3":
		roleARN := s.AWSSTSRoleARN
		aws = &nbv1.AWSS3Spec{TargetBucket: s.TargetBucket, Region: s.Region, AWSSTSRoleARN: &roleARN}
	case "s3-compatible":
		sig := s.SignatureVersion
		if sig == "" && s.Kind == Backing {
			sig = string(nbv1.S3SignatureVersionV4)
		}
		s3c = &nbv1.S3CompatibleSpec{TargetBucket: s.TargetBucket, Endpoint: s.Endpoint, SignatureVersion: nbv1.S3SignatureVersion(sig), Secret: *ref}
	case "ibm-cos":
		sig := s.SignatureVersion
		if sig == "" {
			// The operator's CLI always writes v2 for IBM COS.
			sig = string(nbv1.S3SignatureVersionV2)
		}
		ibm = &nbv1.IBMCosSpec{TargetBucket: s.TargetBucket, Endpoint: s.Endpoint, SignatureVersion: nbv1.S3SignatureVersion(sig), Secret: *ref}
	case "azure-blob":
		az = &nbv1.AzureBlobSpec{TargetBlobContainer: s.TargetBlobContainer, Secret: ref}
	case "azure-sts-blob":
		az = &nbv1.AzureBlobSpec{TargetBlobContainer: s.TargetBlobContainer, Secret: ref}
		if id := s.SecretData[KeyAzureClientID]; id != "" {
			az.ClientID = &id
		}
	case "google-cloud-storage", "google-cloud-storage-sts":
		gcs = &nbv1.GoogleCloudStorageSpec{TargetBucket: s.TargetBucket, Secret: *ref}
	}
	return
}

func (s *Store) backingSpec(t StoreType, ref *corev1.SecretReference) (nbv1.BackingStoreSpec, error) {
	spec := nbv1.BackingStoreSpec{Type: t.CRType}
	if t.Name == "pv-pool" {
		requests := corev1.ResourceList{
			corev1.ResourceStorage: *resource.NewQuantity(int64(s.PVSizeGB)<<30, resource.BinarySI),
		}
		limits := corev1.ResourceList{}
		for _, q := range []struct {
			list corev1.ResourceList
			name corev1.ResourceName
			v    string
		}{
			{requests, corev1.ResourceCPU, s.RequestCPU}, {requests, corev1.ResourceMemory, s.RequestMemory},
			{limits, corev1.ResourceCPU, s.LimitCPU}, {limits, corev1.ResourceMemory, s.LimitMemory},
		} {
			if q.v != "" {
				parsed, err := resource.ParseQuantity(q.v)
				if err != nil {
					return spec, exitcode.Usagef("--"+string(q.name), "invalid quantity %q", q.v)
				}
				q.list[q.name] = parsed
			}
		}
		res := &corev1.VolumeResourceRequirements{Requests: requests}
		if len(limits) > 0 {
			res.Limits = limits
		}
		spec.PVPool = &nbv1.PVPoolSpec{StorageClass: s.StorageClass, NumVolumes: s.NumVolumes, Resources: res, Secret: ref}
		return spec, nil
	}
	spec.AWSS3, spec.S3Compatible, spec.IBMCos, spec.AzureBlob, spec.GoogleCloudStorage = s.cloudSpecs(t, ref)
	return spec, nil
}

func (s *Store) namespaceSpec(t StoreType, ref *corev1.SecretReference) nbv1.NamespaceStoreSpec {
	spec := nbv1.NamespaceStoreSpec{Type: t.CRType, Archive: s.Archive}
	switch s.AccessMode {
	case "read-only":
		spec.AccessMode = nbv1.AccessModeReadOnly
	default:
		spec.AccessMode = nbv1.AccessModeReadWrite
	}
	if t.Name == "nsfs" {
		spec.NSFS = &nbv1.NSFSSpec{PvcName: s.PVCName, SubPath: s.SubPath, FsBackend: nbv1.NSFSBackend(s.FSBackend)}
		return spec
	}
	spec.AWSS3, spec.S3Compatible, spec.IBMCos, spec.AzureBlob, spec.GoogleCloudStorage = s.cloudSpecs(t, ref)
	return spec
}

// MandatorySecretKeys lists the keys a reused Secret must hold for a type
// (the operator's MapStorTypeToMandatoryProperties).
func MandatorySecretKeys(t StoreType) []string {
	switch t.Name {
	case "google-cloud-storage":
		return []string{KeyGoogleServiceAccount}
	case "google-cloud-storage-sts":
		return []string{KeyGoogleCredentialsJSON}
	}
	var keys []string
	for _, f := range t.Credentials {
		keys = append(keys, f.Key)
	}
	return keys
}
