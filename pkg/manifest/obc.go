package manifest

import (
	"encoding/json"
	"regexp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/exitcode"
)

// Claim is what `nb obc create` was asked for.
type Claim struct {
	Name string
	// AppNamespace is where the claim, its ConfigMap and Secret live.
	AppNamespace string
	// NooBaaNamespace is where NooBaa runs; it names the StorageClass.
	NooBaaNamespace string
	StorageClass    string
	BucketClass     string
	Exact           bool
	MaxSize         string
	MaxObjects      string
	Path            string
	// ReplicationPolicy is the JSON content of --replication-policy.
	ReplicationPolicy string
	BucketType        string
	// UID and GID (-1 when unset) and DistinguishedName make up the NSFS
	// account configuration.
	UID, GID          int
	DistinguishedName string
}

var linuxUserRE = regexp.MustCompile(`^[^-:\s][^\s:]{0,30}[^-:\s]$`)

// DefaultStorageClass is the provisioner's StorageClass for a NooBaa namespace.
func DefaultStorageClass(noobaaNamespace string) string { return noobaaNamespace + ".noobaa.io" }

// Validate checks the claim.
func (c *Claim) Validate() error {
	if err := ValidateName("NAME", "ObjectBucketClaim", c.Name); err != nil {
		return err
	}
	if err := ValidateNamespace("--namespace", c.NooBaaNamespace); err != nil {
		return err
	}
	if err := ValidateNamespace("--app-namespace", c.AppNamespace); err != nil {
		return err
	}
	if c.Exact {
		if err := ValidateS3BucketName("NAME", c.Name); err != nil {
			return exitcode.Usagef("--exact", "the claim name is used as the bucket name: %v", err)
		}
	}
	if c.StorageClass != "" {
		if err := ValidateName("--storage-class", "StorageClass", c.StorageClass); err != nil {
			return err
		}
	}
	if c.BucketClass != "" {
		if err := ValidateName("--bucketclass", "BucketClass", c.BucketClass); err != nil {
			return err
		}
	}
	if err := ValidateQuota(c.MaxSize, c.MaxObjects); err != nil {
		return err
	}
	if err := validateReplicationPolicy(c.ReplicationPolicy); err != nil {
		return err
	}
	switch c.BucketType {
	case "", "vector":
	default:
		return exitcode.Usagef("--bucket-type", "invalid bucket type %q: leave it out, or use vector", c.BucketType)
	}
	if c.Path != "" && c.BucketClass == "" {
		return exitcode.Usagef("--path", "a path needs a namespace bucket class: pass --bucketclass")
	}
	if c.Path != "" && !relativePath(c.Path) {
		return exitcode.Usagef("--path", "invalid path %q: use a relative path inside the namespace store, without ..", c.Path)
	}
	hasIDs := c.UID >= 0 || c.GID >= 0
	switch {
	case (c.UID >= 0) != (c.GID >= 0):
		return exitcode.Usagef("--uid", "--uid and --gid go together: pass both")
	case hasIDs && c.DistinguishedName != "":
		return exitcode.Usagef("--distinguished-name", "use either --uid/--gid or --distinguished-name, not both")
	case (hasIDs || c.DistinguishedName != "") && c.BucketClass == "":
		return exitcode.Usagef("--bucketclass", "an NSFS account (--uid/--gid or --distinguished-name) needs a bucket class backed by an NSFS namespace store")
	case c.DistinguishedName != "" && !linuxUserRE.MatchString(c.DistinguishedName):
		return exitcode.Usagef("--distinguished-name", "invalid user name %q: use a Linux user name (2-32 characters, no spaces or colons, not starting with -)", c.DistinguishedName)
	}
	return nil
}

// Build makes the claim. Call Validate first.
func (c *Claim) Build() *obv1.ObjectBucketClaim {
	sc := c.StorageClass
	if sc == "" {
		sc = DefaultStorageClass(c.NooBaaNamespace)
	}
	obc := &obv1.ObjectBucketClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: obv1.GroupVersion.String(), Kind: "ObjectBucketClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.AppNamespace,
			Labels: map[string]string{nbv1.LabelApp: nbv1.LabelAppValue}},
		Spec: obv1.ObjectBucketClaimSpec{StorageClassName: sc},
	}
	if c.Exact {
		obc.Spec.BucketName = c.Name
	} else {
		obc.Spec.GenerateBucketName = c.Name
	}
	cfg := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			cfg[k] = v
		}
	}
	set(obv1.ConfigBucketClass, c.BucketClass)
	set(obv1.ConfigPath, c.Path)
	set(obv1.ConfigReplicationPolicy, c.ReplicationPolicy)
	set(obv1.ConfigBucketType, c.BucketType)
	set(obv1.ConfigMaxSize, c.MaxSize)
	set(obv1.ConfigMaxObjects, c.MaxObjects)
	if acct := c.nsfsAccount(); acct != "" {
		cfg[obv1.ConfigNSFSAccount] = acct
	}
	if len(cfg) > 0 {
		obc.Spec.AdditionalConfig = cfg
	}
	return obc
}

func (c *Claim) nsfsAccount() string {
	if c.UID < 0 && c.DistinguishedName == "" {
		return ""
	}
	acct := map[string]any{}
	if c.UID >= 0 {
		acct["uid"], acct["gid"] = c.UID, c.GID
	} else {
		acct["distinguished_name"] = c.DistinguishedName
	}
	b, _ := json.Marshal(acct) // a map of strings and ints always marshals
	return string(b)
}
