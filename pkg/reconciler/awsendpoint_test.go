package reconciler

import (
	"os"
	"path/filepath"
	"testing"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/internal/versitygw"
)

func TestAWSEndpointFollowsTheSDKSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[default]\nregion = us-east-1\nendpoint_url = http://from-default:9000\n\n[profile ci]\nendpoint_url = http://from-ci:9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3only:1", "AWS_ENDPOINT_URL": "http://all:1", "AWS_CONFIG_FILE": cfg}, "http://s3only:1"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_CONFIG_FILE": cfg}, "http://all:1"},
		{map[string]string{"AWS_CONFIG_FILE": cfg}, "http://from-default:9000"},
		{map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "ci"}, "http://from-ci:9000"},
		{map[string]string{"AWS_CONFIG_FILE": cfg, "AWS_PROFILE": "nope"}, ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
		{map[string]string{"HOME": dir}, ""},
	} {
		if got := AWSEndpoint(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %q, want %q", c.env, got, c.want)
		}
	}
}

// An aws-s3 store reaches a stand-in for AWS named by the SDKs' endpoint
// settings (the walk-through on one machine).
func TestAWSS3StoreReachesAStandIn(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "aws-bucket")
	r := newRec(t)
	r.AWSEndpoint = srv.Endpoint
	create(t, r, secretGVR, secretObj("aws", map[string]interface{}{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}))
	create(t, r, nbv1.BackingStoreGVR, map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": "aws1", "namespace": "noobaa"},
		"spec": map[string]interface{}{"type": "aws-s3", "awsS3": map[string]interface{}{
			"targetBucket": "aws-bucket", "region": "us-east-1",
			"secret": map[string]interface{}{"name": "aws", "namespace": "noobaa"}}},
	})
	pass(t, r)
	if p, m, reason, msg := status(t, r, nbv1.BackingStoreGVR, "aws1"); p != "Ready" || m != "OPTIMAL" {
		t.Errorf("aws-s3 against the stand-in: %s/%s (%s: %s)", p, m, reason, msg)
	}
}
