package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/crdschema"
	"github.com/nbctl/nb/pkg/exitcode"
)

// FuzzValidators feeds arbitrary strings to every validator: none may
// panic, and every rejection must be a usage error naming a flag.
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"", "a", "nb-bucket", "http://127.0.0.1:9000", "https://[::1]:99999", "Mirror:a,b", "10Gi", "-5", "arn:aws:iam::1:role/x", "a..b", "\x00", "%zz"} {
		f.Add(s, 3, 16)
	}
	schemas, err := crdschema.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, n, gb int) {
		check := func(err error) {
			if err == nil {
				return
			}
			var u *exitcode.UsageError
			if !errors.As(err, &u) || u.Flag == "" {
				t.Fatalf("%q: not a usage error naming a flag: %v", s, err)
			}
		}
		check(ValidateEndpoint("--endpoint", s))
		check(ValidateS3BucketName("--target-bucket", s))
		check(ValidateRegion("--region", s))
		check(ValidateSignatureVersion("--signature-version", s))
		check(ValidateQuota(s, s))
		check(ValidateName("NAME", "BackingStore", s))
		if tier, err := ParseTier(s); err == nil {
			bc := BucketClass{Name: "bc", Namespace: "noobaa", Tiers: []TierInput{tier}}
			check(bc.Validate())
		} else {
			check(err)
		}
		for _, typ := range []string{"aws-s3", "s3-compatible", "pv-pool", "azure-blob", "google-cloud-storage-sts", "nsfs"} {
			st := Store{Kind: Backing, Type: typ, Name: s, Namespace: "noobaa", TargetBucket: s, Endpoint: s,
				TargetBlobContainer: s, NumVolumes: n, PVSizeGB: gb, RequestCPU: s, ProjectNumber: s, PVCName: s}
			if strings.HasPrefix(typ, "nsfs") {
				st.Kind = Namespace
			}
			err := st.Validate()
			check(err)
			if err == nil && !st.NeedsCredentials() {
				objs, err := st.Build()
				if err != nil {
					t.Fatalf("valid store failed to build: %v", err)
				}
				u, err := ToUnstructured(objs.Store())
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas.Check(u.Object); err != nil {
					t.Fatalf("valid %s store %q fails the CRD schema: %v", typ, s, err)
				}
			}
		}
		c := Claim{Name: s, AppNamespace: "a", NooBaaNamespace: "noobaa", Exact: n%2 == 0, UID: n, GID: gb, BucketClass: "b", DistinguishedName: s}
		check(c.Validate())
	})
}
