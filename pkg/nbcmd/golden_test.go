package nbcmd

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/nbctl/nb/pkg/crdschema"
)

var awsEnv = map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE", "AWS_SECRET_ACCESS_KEY": "env-secret"}

// goldenCases cover every store type, bucket class policy and claim shape.
var goldenCases = []struct {
	name string
	env  map[string]string
	args string
}{
	{"bs-aws-s3", awsEnv, "backingstore create aws-s3 aws1 --target-bucket nb-bucket --region us-east-1"},
	{"bs-aws-s3-flags", nil, "backingstore create aws-s3 aws1 --target-bucket nb-bucket --access-key AKIAFLAG --secret-key flag-secret"},
	{"bs-aws-s3-credentials-file", nil, "backingstore create aws-s3 aws1 --target-bucket nb-bucket --credentials-file aws-credentials"},
	{"bs-aws-s3-credentials-file-profile", map[string]string{"AWS_PROFILE": "ci"}, "backingstore create aws-s3 aws1 --target-bucket nb-bucket --credentials-file aws-credentials"},
	{"bs-aws-s3-secret-name", nil, "backingstore create aws-s3 aws1 --target-bucket nb-bucket --secret-name my-aws-keys"},
	{"bs-aws-sts-s3", nil, "backingstore create aws-sts-s3 sts1 --target-bucket nb-bucket --aws-sts-arn arn:aws:iam::123456789012:role/noobaa --region eu-west-1"},
	{"bs-s3-compatible", nil, "backingstore create s3-compatible minio1 --endpoint http://127.0.0.1:9000 --target-bucket b1 --credentials-file creds.env"},
	{"bs-s3-compatible-v2", awsEnv, "backingstore create s3-compatible ceph1 --endpoint rgw.example.com --target-bucket b1 --signature-version v2 -n storage"},
	{"bs-ibm-cos", nil, "backingstore create ibm-cos cos1 --endpoint https://s3.us-south.cloud-object-storage.appdomain.cloud --target-bucket cos-bucket --credentials-file ibm.env"},
	{"bs-azure-blob", map[string]string{"AZURE_STORAGE_ACCOUNT": "nbaccount", "AZURE_STORAGE_KEY": "bmJrZXk="}, "backingstore create azure-blob az1 --target-blob-container nb-container"},
	{"bs-azure-sts-blob", nil, "backingstore create azure-sts-blob azsts1 --target-blob-container nb-container --account-name nbaccount --tenant-id 11111111-2222-3333-4444-555555555555 --client-id 66666666-7777-8888-9999-000000000000"},
	{"bs-google-cloud-storage", nil, "backingstore create google-cloud-storage gcs1 --target-bucket nb-gcs --private-key-json-file gcs-key.json"},
	{"bs-google-cloud-storage-env", map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "gcs-key.json"}, "backingstore create google-cloud-storage gcs1 --target-bucket nb-gcs"},
	{"bs-google-cloud-storage-sts", nil, "backingstore create google-cloud-storage-sts gcssts1 --target-bucket nb-gcs --service-account-email nb@proj.iam.gserviceaccount.com --project-number 123456789 --pool-id pool1 --provider-id prov1"},
	{"bs-pv-pool", nil, "backingstore create pv-pool pv1 --num-volumes 1 --pv-size-gb 16"},
	{"bs-pv-pool-resources", nil, "backingstore create pv-pool pv2 --num-volumes 3 --pv-size-gb 100 --storage-class fast --request-cpu 500m --request-memory 1Gi --limit-cpu 2 --limit-memory 4Gi"},
	{"ns-aws-s3", awsEnv, "namespacestore create aws-s3 aws-ns --target-bucket nb-bucket --access-mode read-only"},
	{"ns-aws-sts-s3", nil, "namespacestore create aws-sts-s3 sts-ns --target-bucket nb-bucket --aws-sts-arn arn:aws:iam::123456789012:role/noobaa"},
	{"ns-s3-compatible-archive", awsEnv, "namespacestore create s3-compatible archive-ns --endpoint https://archive.example.com --target-bucket cold --archive"},
	{"ns-ibm-cos", nil, "namespacestore create ibm-cos cos-ns --endpoint https://cos.example.com --target-bucket cos-bucket --credentials-file ibm.env"},
	{"ns-azure-blob", nil, "namespacestore create azure-blob az-ns --target-blob-container ns-container --account-name acct --account-key a2V5"},
	{"ns-azure-sts-blob", map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_TENANT_ID": "t1", "AZURE_CLIENT_ID": "c1"}, "namespacestore create azure-sts-blob azsts-ns --target-blob-container ns-container"},
	{"ns-nsfs", nil, "namespacestore create nsfs fs1 --pvc-name shared-fs --sub-path exports/data --fs-backend gpfs"},
	{"bc-single", nil, "bucketclass create placement-bucketclass single1 --backingstores aws1"},
	{"bc-mirror", nil, "bucketclass create placement-bucketclass mirror1 --backingstores aws1,pv1 --placement Mirror"},
	{"bc-spread", nil, "bucketclass create placement-bucketclass spread1 --backingstores aws1,pv1,pv2 --placement spread"},
	{"bc-spread-ec", nil, "bucketclass create placement-bucketclass ec1 --backingstores pv1,pv2,pv3 --placement Spread --erasure-coding 2+1"},
	{"bc-two-tiers", nil, "bucketclass create placement-bucketclass tiered --tier Mirror:pv1,pv2 --tier Spread:aws1,aws2 --max-size 500Gi --max-objects 1000000"},
	{"bc-replication", nil, "bucketclass create placement-bucketclass repl --backingstores aws1 --replication-policy replication.json"},
	{"bc-ns-single", nil, "bucketclass create namespace-bucketclass single nss --resource aws-ns"},
	{"bc-ns-multi", nil, "bucketclass create namespace-bucketclass multi nsm --read-resources aws-ns,az-ns --write-resource aws-ns"},
	{"bc-ns-multi-readonly", nil, "bucketclass create namespace-bucketclass multi nsro --read-resources aws-ns"},
	{"bc-ns-cache", nil, "bucketclass create namespace-bucketclass cache nsc --hub-resource aws-ns --backingstores pv1 --ttl 60000 --prefix hot/"},
	{"obc-generate", nil, "obc create federated-bucket --bucketclass mirror1"},
	{"obc-exact", nil, "obc create exact-bucket --exact --bucketclass mirror1 --app-namespace shop"},
	{"obc-default-class", nil, "obc create plain -n storage"},
	{"obc-quota", nil, "obc create quota-bucket --bucketclass mirror1 --max-size 10Gi --max-objects 5000 --replication-policy replication.json"},
	{"obc-nsfs-uid", nil, "obc create fs-bucket --bucketclass nss --path data --uid 1001 --gid 1001"},
	{"obc-nsfs-dn", nil, "obc create fs-bucket2 --bucketclass nss --distinguished-name appuser"},
	{"obc-vector", nil, "obc create vec --bucketclass vec-class --bucket-type vector"},
}

func TestGoldenManifests(t *testing.T) {
	schemas, err := crdschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	update := os.Getenv("UPDATE_GOLDEN") == "1"
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(splitArgs(tc.args), "--dry-run=client", "-o", "yaml", "--show-secrets")
			r := runNB(t, tc.env, "", args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if r.stderr != "" {
				t.Errorf("unexpected stderr: %q", r.stderr)
			}
			path := filepath.Join(testdataDir, "golden", tc.name+".yaml")
			if update {
				if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with UPDATE_GOLDEN=1 to create it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("output differs from %s (UPDATE_GOLDEN=1 rewrites it):\n--- got\n%s\n--- want\n%s", path, r.stdout, want)
			}
			for _, obj := range decodeDocs(t, r.stdout) {
				checkObject(t, schemas, obj)
			}
		})
	}
}

func decodeDocs(t *testing.T, s string) []map[string]interface{} {
	t.Helper()
	var out []map[string]interface{}
	dec := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(s)))
	for {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatal(err)
		}
		if obj != nil {
			out = append(out, obj)
		}
	}
}

// checkObject validates a CR against its CRD's schema and fails on any
// field the API server would prune; a Secret's keys must be valid keys.
func checkObject(t *testing.T, schemas *crdschema.Schemas, obj map[string]interface{}) {
	t.Helper()
	if obj["kind"] == "Secret" {
		data, _ := obj["stringData"].(map[string]interface{})
		for k, v := range data {
			if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
				t.Errorf("Secret key %q: %v", k, errs)
			}
			if s, _ := v.(string); s == "" {
				t.Errorf("Secret key %q has an empty value", k)
			}
		}
		return
	}
	if err := schemas.Check(obj); err != nil {
		t.Errorf("%s %v: %v", obj["kind"], obj["metadata"], err)
	}
}
