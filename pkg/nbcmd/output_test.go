package nbcmd

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestSecretsMaskedByDefault(t *testing.T) {
	r := runNB(t, awsEnv, "", "backingstore", "create", "aws-s3", "aws1", "--target-bucket", "nb-bucket", "--dry-run=client", "-o", "yaml")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "env-secret") || strings.Contains(r.stdout, "AKIAENVEXAMPLE") {
		t.Errorf("secret values printed without --show-secrets:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "AWS_SECRET_ACCESS_KEY: '********'") {
		t.Errorf("masked key missing:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "--show-secrets") {
		t.Errorf("no hint about masking on stderr: %q", r.stderr)
	}
}

func TestSecretsNeverInNameOutput(t *testing.T) {
	r := runNB(t, awsEnv, "", "backingstore", "create", "aws-s3", "aws1", "--target-bucket", "nb-bucket", "--dry-run")
	want := "secret/backing-store-aws-s3-aws1 created (dry run)\nbackingstore.noobaa.io/aws1 created (dry run)\n"
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("got %+v", r)
	}
}

func TestJSONListOfSecretThenStore(t *testing.T) {
	r := runNB(t, awsEnv, "", "namespacestore", "create", "aws-s3", "n1", "--target-bucket", "nb-bucket", "--dry-run=client", "-o", "json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var list struct {
		APIVersion, Kind string
		Items            []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != 2 || list.Items[0].Kind != "Secret" || list.Items[1].Kind != "NamespaceStore" {
		t.Errorf("got %+v", list)
	}
}

func TestSingleObjectJSONIsNotAList(t *testing.T) {
	r := runNB(t, nil, "", "bucketclass", "create", "placement-bucketclass", "b1", "--backingstores", "a", "--dry-run", "-o", "json")
	var obj map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &obj); err != nil || obj["kind"] != "BucketClass" {
		t.Errorf("got %v %v", obj, err)
	}
}

func TestJSONPathOutput(t *testing.T) {
	r := runNB(t, nil, "", "obc", "create", "c1", "--dry-run", "-o", "jsonpath={.spec.storageClassName}", "-n", "store")
	if r.code != 0 || r.stdout != "store.noobaa.io" {
		t.Errorf("got %+v", r)
	}
}

func TestNoKubeconfigSaysSo(t *testing.T) {
	t.Setenv("KUBECONFIG", t.TempDir()+"/missing")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	r := runNB(t, nil, "", "obc", "create", "c1", "--target", "kube")
	if r.code != 1 || !strings.Contains(r.stderr, "no Kubernetes cluster is configured") || !strings.Contains(r.stderr, "--target local") || strings.Contains(r.stderr, "8080") {
		t.Errorf("got %+v", r)
	}
}

func TestNoKubeconfigMeansLocalTarget(t *testing.T) {
	t.Setenv("KUBECONFIG", t.TempDir()+"/missing")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	r := runNB(t, nil, "", "backingstore", "list")
	want := "nb: local target, state in " + home + "/.local/state/nb\n"
	if r.code != 0 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("got %+v, want stderr %q", r, want)
	}
}

func TestTargetIsChecked(t *testing.T) {
	r := runNB(t, nil, "", "backingstore", "list", "--target", "cloud")
	if r.code != 2 || !strings.Contains(r.stderr, "--target") || !strings.Contains(r.stderr, "auto, local or kube") {
		t.Errorf("got %+v", r)
	}
}

func TestNamespaceFromKubeconfigContext(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := dir + "/config"
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: with-ns
  context: {cluster: c, user: u, namespace: storage-team}
- name: without-ns
  context: {cluster: c, user: u}
current-context: with-ns
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "storage-team"},
		{[]string{"--context", "without-ns"}, "noobaa"},
		{[]string{"-n", "explicit"}, "explicit"},
	} {
		args := append([]string{"obc", "create", "c1", "--dry-run", "-o", "jsonpath={.metadata.namespace}"}, tc.args...)
		if r := runNB(t, nil, "", args...); r.stdout != tc.want {
			t.Errorf("%v: namespace %q, want %q (%s)", tc.args, r.stdout, tc.want, r.stderr)
		}
	}
}
