package nbcmd

import (
	"strings"
	"testing"
)

// TestBadInput runs each bad command line and asserts the exit code, that
// the one error line names the flag (or argument) and the fix, and that
// nothing was printed on stdout.
func TestBadInput(t *testing.T) {
	aws := "backingstore create aws-s3 aws1 --target-bucket nb-bucket --access-key a --secret-key s "
	cases := []struct {
		name, args string
		env        map[string]string
		code       int
		want       []string
	}{
		{"unknown store type", "backingstore create minio x", nil, 2, []string{`unknown backingstore type "minio"`, "aws-s3", "pv-pool"}},
		{"namespace store has no pv-pool", "namespacestore create pv-pool x", nil, 2, []string{`unknown namespacestore type "pv-pool"`, "nsfs"}},
		{"unknown group verb", "backingstore frobnicate", nil, 2, []string{`unknown command "frobnicate"`, "create"}},
		{"unknown top command", "bogus", nil, 2, []string{`unknown command "bogus"`}},
		{"typo of a command", "backingstor list", nil, 2, []string{`unknown command "backingstor"`, "did you mean backingstore?"}},
		{"typo of a verb", "backingstore lst", nil, 2, []string{"did you mean list?"}},
		{"typo of a class kind", "bucketclass create placment-bucketclass x", nil, 2, []string{"did you mean placement-bucketclass?"}},
		{"missing name", "backingstore create pv-pool", nil, 2, []string{"NAME is required", "pv-pool NAME"}},
		{"extra argument", "obc create a b", nil, 2, []string{`unexpected argument "b"`}},
		{"unknown flag", "obc create a --bogus", nil, 2, []string{"unknown flag: --bogus", "--help"}},
		{"bad flag value", "backingstore create pv-pool p --num-volumes three", nil, 2, []string{"num-volumes", "three"}},
		{"uppercase name", "backingstore create pv-pool PV1 --num-volumes 1 --pv-size-gb 16", nil, 2, []string{"NAME", `invalid BackingStore name "PV1"`, "lower case"}},
		{"pv-pool name too long", "backingstore create pv-pool " + strings.Repeat("a", 44) + " --num-volumes 1 --pv-size-gb 16", nil, 2, []string{"NAME", "44 characters", "at most 43"}},
		{"pv-pool no volumes", "backingstore create pv-pool p --pv-size-gb 16", nil, 2, []string{"--num-volumes is required", "1-20"}},
		{"pv-pool no size", "backingstore create pv-pool p --num-volumes 1", nil, 2, []string{"--pv-size-gb is required", "16-1024"}},
		{"pv-pool too many volumes", "backingstore create pv-pool p --num-volumes 21 --pv-size-gb 16", nil, 2, []string{"--num-volumes", "between 1 and 20 (got 21)"}},
		{"pv-pool too small", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 15", nil, 2, []string{"--pv-size-gb", "between 16 and 1024 (got 15)"}},
		{"pv-pool too big", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 1025", nil, 2, []string{"--pv-size-gb", "(got 1025)"}},
		{"pv-pool cpu request over limit", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 16 --request-cpu 2 --limit-cpu 1", nil, 2, []string{"--request-cpu", "larger than --limit-cpu"}},
		{"pv-pool memory request over limit", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 16 --request-memory 2Gi --limit-memory 1Gi", nil, 2, []string{"--request-memory", "larger than --limit-memory"}},
		{"pv-pool bad quantity", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 16 --request-cpu lots", nil, 2, []string{"--request-cpu", `invalid quantity "lots"`}},
		{"missing target bucket", "backingstore create aws-s3 aws1 --access-key a --secret-key s", nil, 2, []string{"--target-bucket", "bucket name is required"}},
		{"bad aws bucket", "backingstore create aws-s3 aws1 --target-bucket My_Bucket --access-key a --secret-key s", nil, 2, []string{"--target-bucket", `invalid bucket name "My_Bucket"`}},
		{"ip bucket", "backingstore create aws-s3 aws1 --target-bucket 192.168.1.1 --access-key a --secret-key s", nil, 2, []string{"--target-bucket", "IP address"}},
		{"bad region", aws + "--region US_EAST", nil, 2, []string{"--region", `invalid region "US_EAST"`}},
		{"missing endpoint", "backingstore create s3-compatible s1 --target-bucket b1 --access-key a --secret-key s", nil, 2, []string{"--endpoint", "endpoint is required"}},
		{"bad endpoint scheme", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint ftp://x --access-key a --secret-key s", nil, 2, []string{"--endpoint", "scheme must be http or https"}},
		{"bad endpoint port", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint http://x:99999 --access-key a --secret-key s", nil, 2, []string{"--endpoint", "port must be 1-65535"}},
		{"endpoint with credentials", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint http://u:p@x --access-key a --secret-key s", nil, 2, []string{"--endpoint", "not in the URL"}},
		{"endpoint without host", "backingstore create ibm-cos c1 --target-bucket bucket1 --endpoint https:// --access-key a --secret-key s", nil, 2, []string{"--endpoint", "no host"}},
		{"bad signature", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint http://x --signature-version v3 --access-key a --secret-key s", nil, 2, []string{"--signature-version", "use v4 or v2"}},
		{"no credentials, no terminal", "backingstore create aws-s3 aws1 --target-bucket nb-bucket", nil, 2, []string{"--access-key", "stdin is not a terminal", "AWS_ACCESS_KEY_ID", "--credentials-file", "--secret-name"}},
		{"half credentials", "backingstore create aws-s3 aws1 --target-bucket nb-bucket --access-key a", nil, 2, []string{"--secret-key", "AWS_SECRET_ACCESS_KEY"}},
		{"ibm env names", "backingstore create ibm-cos c1 --target-bucket bucket1 --endpoint https://x", map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}, 2, []string{"--access-key", "IBM_COS_ACCESS_KEY_ID"}},
		{"azure no key", "backingstore create azure-blob az1 --target-blob-container cont --account-name n", nil, 2, []string{"--account-key", "AZURE_STORAGE_KEY"}},
		{"azure bad container", "backingstore create azure-blob az1 --target-blob-container Bad--Name --account-name n --account-key k", nil, 2, []string{"--target-blob-container", "invalid container name"}},
		{"credentials file missing", "backingstore create aws-s3 aws1 --target-bucket nb-bucket --credentials-file nope.env", nil, 2, []string{"--credentials-file", "cannot read", "no such file"}},
		{"credentials file unrelated", "backingstore create aws-s3 aws1 --target-bucket nb-bucket --credentials-file unrelated.env", nil, 2, []string{"--credentials-file", "none of the keys", "AWS_ACCESS_KEY_ID", "SOMETHING_ELSE"}},
		{"credentials file missing profile", "backingstore create aws-s3 aws1 --target-bucket nb-bucket --credentials-file aws-credentials", map[string]string{"AWS_PROFILE": "prod"}, 2, []string{"--credentials-file", "no [prod] profile", "AWS_PROFILE"}},
		{"secret name with keys", aws + "--secret-name s", nil, 2, []string{"--secret-name", "leave out the credential flags"}},
		{"secret name on pv-pool", "backingstore create pv-pool p --num-volumes 1 --pv-size-gb 16 --secret-name s", nil, 2, []string{"unknown flag: --secret-name"}},
		{"secret name on sts", "backingstore create aws-sts-s3 s --target-bucket nb-bucket --aws-sts-arn arn:aws:iam::1:role/r --secret-name x", nil, 2, []string{"unknown flag: --secret-name"}},
		{"bad secret name", "backingstore create aws-s3 aws1 --target-bucket nb-bucket --secret-name Bad_Name", nil, 2, []string{"--secret-name", "invalid Secret name"}},
		{"sts no arn", "backingstore create aws-sts-s3 s --target-bucket nb-bucket", nil, 2, []string{"--aws-sts-arn", "required"}},
		{"sts bad arn", "backingstore create aws-sts-s3 s --target-bucket nb-bucket --aws-sts-arn role/x", nil, 2, []string{"--aws-sts-arn", "arn:aws:iam::ACCOUNT:role/NAME"}},
		{"gcs no key", "backingstore create google-cloud-storage g --target-bucket nb-gcs", nil, 2, []string{"--private-key-json-file", "GOOGLE_APPLICATION_CREDENTIALS"}},
		{"gcs wrong key type", "backingstore create google-cloud-storage g --target-bucket nb-gcs --private-key-json-file gcs-wif.json", nil, 2, []string{"--private-key-json-file", `"external_account"`, "google-cloud-storage-sts"}},
		{"gcs key not json", "backingstore create google-cloud-storage g --target-bucket nb-gcs --private-key-json-file creds.env", nil, 2, []string{"--private-key-json-file", "not a JSON object"}},
		{"gcs sts project id", "backingstore create google-cloud-storage-sts g --target-bucket nb-gcs --service-account-email a@b --project-number my-proj --pool-id p --provider-id q", nil, 2, []string{"--project-number", "numeric"}},
		{"gcs sts missing pool", "backingstore create google-cloud-storage-sts g --target-bucket nb-gcs --service-account-email a@b --project-number 1 --provider-id q", nil, 2, []string{"--pool-id", "required"}},
		{"nsfs no pvc", "namespacestore create nsfs fs1", nil, 2, []string{"--pvc-name", "required"}},
		{"nsfs bad backend", "namespacestore create nsfs fs1 --pvc-name p --fs-backend zfs", nil, 2, []string{"--fs-backend", "CEPH_FS, GPFS, NFSv4"}},
		{"nsfs absolute sub-path", "namespacestore create nsfs fs1 --pvc-name p --sub-path /etc", nil, 2, []string{"--sub-path", "relative"}},
		{"bad access mode", "namespacestore create aws-s3 n1 --target-bucket nb-bucket --access-key a --secret-key s --access-mode rw", nil, 2, []string{"--access-mode", "read-write, read-only"}},
		{"bad namespace", "obc create c -n Bad_NS", nil, 2, []string{"--namespace", `invalid namespace "Bad_NS"`}},
		{"bad dry-run", "obc create c --dry-run=maybe", nil, 2, []string{"--dry-run", "none, client or server"}},
		{"bad output", "obc create c --dry-run -o xml", nil, 2, []string{"--output", "xml"}},
		{"mirror one store", "bucketclass create placement-bucketclass m --backingstores a --placement Mirror", nil, 2, []string{"--backingstores", "Mirror needs at least 2 backing stores"}},
		{"spread one store", "bucketclass create placement-bucketclass m --tier Spread:a", nil, 2, []string{"--tier", "Spread needs at least 2"}},
		{"erasure bad syntax", "bucketclass create placement-bucketclass m --backingstores a,b,c --placement Spread --erasure-coding 2-1", nil, 2, []string{"--erasure-coding", "K+M"}},
		{"erasure too few stores", "bucketclass create placement-bucketclass m --backingstores a,b --placement Spread --erasure-coding 2+1", nil, 2, []string{"--erasure-coding", "at least 3 stores"}},
		{"erasure on mirror", "bucketclass create placement-bucketclass m --backingstores a,b,c --placement Mirror --erasure-coding 2+1", nil, 2, []string{"--erasure-coding", "Spread"}},
		{"verify nothing named", "verify", nil, 2, []string{"CLAIM", "--bucketclass"}},
		{"verify both", "verify c1 --bucketclass b", nil, 2, []string{"--bucketclass", "not both"}},
		{"verify bad size", "verify c1 --size lots", nil, 2, []string{"--size", "64Mi"}},
		{"verify zero size", "verify c1 --size 0", nil, 2, []string{"--size", "more than 0"}},
		{"verify size beyond 64 bits", "verify c1 --size 99999999999999999999999", nil, 2, []string{"--size", "too large", "8Ei"}},
		{"verify size 1e30", "verify c1 --size 1e30", nil, 2, []string{"--size", "too large"}},
		{"verify negative size", "verify c1 --size -5Mi", nil, 2, []string{"--size", "negative"}},
		{"verify bad output", "verify c1 -o yaml", nil, 2, []string{"--output", "json"}},
		{"verify missing file", "verify c1 --file /nonexistent/x", nil, 2, []string{"--file", "no such file"}},
		{"two stores no placement", "bucketclass create placement-bucketclass m --backingstores a,b", nil, 2, []string{"--placement", "Mirror", "Spread"}},
		{"bad placement", "bucketclass create placement-bucketclass m --backingstores a,b --placement Stripe", nil, 2, []string{"--placement", `invalid value "Stripe"`, "Mirror, Spread"}},
		{"three tiers", "bucketclass create placement-bucketclass m --tier Mirror:a,b --tier Mirror:c,d --tier Mirror:e,f", nil, 2, []string{"--tier", "3 tiers", "1 or 2 tiers"}},
		{"store in two tiers", "bucketclass create placement-bucketclass m --tier Mirror:a,b --tier Mirror:b,c", nil, 2, []string{"--tier", `"b" is in tiers 1 and 2`}},
		{"store twice in a tier", "bucketclass create placement-bucketclass m --backingstores a,a --placement Mirror", nil, 2, []string{"--backingstores", `"a" is listed twice`}},
		{"tier without colon", "bucketclass create placement-bucketclass m --tier a,b", nil, 2, []string{"--tier", "PLACEMENT:STORE"}},
		{"tier and backingstores", "bucketclass create placement-bucketclass m --tier Mirror:a,b --backingstores c", nil, 2, []string{"--tier", "not both"}},
		{"no stores", "bucketclass create placement-bucketclass m", nil, 2, []string{"--backingstores", "at least one backing store"}},
		{"bad quota size", "bucketclass create placement-bucketclass m --backingstores a --max-size lots", nil, 2, []string{"--max-size", "not a size", "1Gi to 1023Pi"}},
		{"quota beyond 64 bits", "bucketclass create placement-bucketclass m --backingstores a --max-size 99999999999999999999999", nil, 2, []string{"--max-size", "too large"}},
		{"claim quota beyond 64 bits", "obc create q --bucketclass m --max-size 99999999999999999999999", nil, 2, []string{"--max-size", "too large"}},
		{"quota too small", "bucketclass create placement-bucketclass m --backingstores a --max-size 100Mi", nil, 2, []string{"--max-size", "1Gi to 1023Pi"}},
		{"quota negative objects", "bucketclass create placement-bucketclass m --backingstores a --max-objects -5", nil, 2, []string{"--max-objects", "whole number"}},
		{"replication not json", "bucketclass create placement-bucketclass m --backingstores a --replication-policy creds.env", nil, 2, []string{"--replication-policy", "not a JSON replication policy"}},
		{"unknown class kind", "bucketclass create tiered-bucketclass x", nil, 2, []string{`unknown bucket class kind "tiered-bucketclass"`, "namespace-bucketclass", "placement-bucketclass"}},
		{"unknown namespace policy", "bucketclass create namespace-bucketclass mirror x", nil, 2, []string{`unknown namespace policy "mirror"`, "cache, multi, single"}},
		{"single no resource", "bucketclass create namespace-bucketclass single x", nil, 2, []string{"--resource", "required"}},
		{"multi no read", "bucketclass create namespace-bucketclass multi x --write-resource w", nil, 2, []string{"--read-resources", "at least one"}},
		{"cache no hub", "bucketclass create namespace-bucketclass cache x --backingstores a", nil, 2, []string{"--hub-resource", "required"}},
		{"cache no tier", "bucketclass create namespace-bucketclass cache x --hub-resource h", nil, 2, []string{"--backingstores", "hold the cache"}},
		{"exact bad bucket", "obc create Bad_Bucket --exact", nil, 2, []string{"NAME"}},
		{"exact short bucket", "obc create ab --exact", nil, 2, []string{"--exact", "bucket name"}},
		{"uid without gid", "obc create c --bucketclass b --uid 5", nil, 2, []string{"--uid", "--gid", "together"}},
		{"uid and dn", "obc create c --bucketclass b --uid 5 --gid 5 --distinguished-name bob", nil, 2, []string{"--distinguished-name", "not both"}},
		{"nsfs without class", "obc create c --distinguished-name bob", nil, 2, []string{"--bucketclass", "NSFS"}},
		{"bad dn", "obc create c --bucketclass b --distinguished-name -bob", nil, 2, []string{"--distinguished-name", "Linux user name"}},
		{"path without class", "obc create c --path data", nil, 2, []string{"--path", "--bucketclass"}},
		{"bad bucket type", "obc create c --bucket-type table", nil, 2, []string{"--bucket-type", "vector"}},
		{"bad app namespace", "obc create c --app-namespace UPPER", nil, 2, []string{"--app-namespace", "invalid namespace"}},
		{"path escaping", "obc create c --bucketclass b --path ../../../etc", nil, 2, []string{"--path", "without .."}},
		{"absolute path", "obc create c --bucketclass b --path /etc", nil, 2, []string{"--path", "relative"}},
		{"endpoint that is a path", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint ../../etc --access-key a --secret-key s", nil, 2, []string{"--endpoint", "neither a host name nor an IP"}},
		{"endpoint of digits", "backingstore create s3-compatible s1 --target-bucket b1 --endpoint 12345678901234567890123 --access-key a --secret-key s", nil, 2, []string{"--endpoint", "neither a host name nor an IP"}},
		{"s3-compatible bucket -1", "backingstore create s3-compatible s1 --target-bucket -1 --endpoint http://minio:9000 --access-key a --secret-key s", nil, 2, []string{"--target-bucket", "ASCII"}},
		{"s3-compatible unicode bucket", "backingstore create s3-compatible s1 --target-bucket bückét --endpoint http://minio:9000 --access-key a --secret-key s", nil, 2, []string{"--target-bucket", "ASCII"}},
		{"long region", aws + "--region " + strings.Repeat("a", 10000), nil, 2, []string{"--region", "10000 characters"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := splitArgs(tc.args)
			switch {
			case args[0] == "verify": // no dry run: an empty local target
				args = append(args, "--target", "local", "--state-dir", t.TempDir())
			case !strings.Contains(tc.args, "--dry-run"):
				args = append(args, "--dry-run=client")
			}
			r := runNB(t, tc.env, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit code %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty, got %q", r.stdout)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "error: ") {
				t.Errorf("stderr should start with one error line, got %q", r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stack trace in stderr: %s", r.stderr)
			}
		})
	}
}

// Read commands and the target flags check their input too (exit 2).
func TestBadInputOnReads(t *testing.T) {
	dir := t.TempDir()
	local := []string{"--target", "local", "--state-dir", dir}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"backingstore", "status", ""}, []string{"NAME", "empty"}},
		{[]string{"obc", "delete", " "}, []string{"NAME", "empty"}},
		{[]string{"backingstore", "list", "-n", "../../etc"}, []string{"--namespace", "invalid namespace"}},
		{[]string{"obc", "status", "c1", "-n", "UPPER"}, []string{"--namespace", "invalid namespace"}},
		{[]string{"backingstore", "list", "--request-timeout", "garbage"}, []string{"--request-timeout", "30s"}},
		{[]string{"backingstore", "list", "--context", "prod"}, []string{"--context", "--target kube"}},
		{[]string{"backingstore", "list", "--kubeconfig", "/nonexistent"}, []string{"--kubeconfig", "--target kube"}},
		{[]string{"backingstore", "status", "a", "b"}, []string{`unexpected argument "b"`}},
	} {
		r := runNB(t, nil, "", append(c.args, local...)...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("nb %q: exit %d, stdout %q, stderr %q", c.args, r.code, r.stdout, r.stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("nb %q: stderr %q lacks %q", c.args, r.stderr, w)
			}
		}
	}
}
