package nbcmd

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
)

func TestClusterListStatusOfStores(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	for _, args := range [][]string{
		{"backingstore", "create", "pv-pool", "pv1", "--num-volumes", "2", "--pv-size-gb", "16"},
		{"backingstore", "create", "aws-s3", "aws1", "--target-bucket", "nb-bucket"},
	} {
		if r := runCluster(t, awsEnv, append(args, "-n", ns, "--wait=false")...); r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	setStatus(t, nbv1.BackingStoreGVR, ns, "pv1", storeStatus("Ready", "OPTIMAL", "BackingStorePhaseReady", "backing store is ready"))
	setStatus(t, nbv1.BackingStoreGVR, ns, "aws1", storeStatus("Rejected", "AUTH_FAILED", "AUTH_FAILED", "bad key"))

	r := runCluster(t, nil, "backingstore", "list", "-n", ns)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("list: %+v", r)
	}
	// Piped: tab-separated NAME TYPE PHASE MODE AGE, no header, RFC 3339 ages.
	fields := strings.Split(lines[0], "\t")
	if len(fields) != 5 || fields[0] != "aws1" || fields[1] != "aws-s3" || fields[2] != "Rejected" || fields[3] != "AUTH_FAILED" {
		t.Errorf("row %q", lines[0])
	}
	if _, err := time.Parse(time.RFC3339, fields[4]); err != nil {
		t.Errorf("age %q is not RFC 3339 when piped", fields[4])
	}

	r = runCluster(t, nil, "backingstore", "list", "-n", ns, "-o", "wide")
	if !strings.Contains(r.stdout, "pv1\tpv-pool\tReady\tOPTIMAL\t2 volumes\tbacking-store-pv-pool-pv1\t") {
		t.Errorf("wide: %q", r.stdout)
	}
	r = runCluster(t, nil, "backingstore", "list", "-A")
	if !strings.Contains(r.stdout, ns+"\tpv1\t") {
		t.Errorf("-A: %q", r.stdout)
	}
	r = runCluster(t, nil, "backingstore", "list", "-n", ns, "-o", "name")
	if r.stdout != "backingstore.noobaa.io/aws1\nbackingstore.noobaa.io/pv1\n" {
		t.Errorf("-o name: %q", r.stdout)
	}
	r = runCluster(t, nil, "backingstore", "list", "-n", ns, "-o", "json")
	var list struct {
		Kind  string
		Items []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 {
		t.Errorf("-o json: %v %q", err, r.stdout)
	}
	r = runCluster(t, nil, "namespacestore", "list", "-n", ns)
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No namespacestores found") {
		t.Errorf("empty list: %+v", r)
	}

	r = runCluster(t, nil, "backingstore", "status", "aws1", "-n", ns)
	for _, w := range []string{"Name:          aws1", "Type:          aws-s3", "Target:        nb-bucket", "Phase:         Rejected", "Mode:          AUTH_FAILED",
		"Conditions:", "Degraded\tTrue\tAUTH_FAILED\tbad key", "Secret backing-store-aws-s3-aws1:", "AWS_SECRET_ACCESS_KEY\t********"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("status lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "env-secret") {
		t.Errorf("status printed a secret without --show-secrets")
	}
	r = runCluster(t, nil, "backingstore", "status", "aws1", "-n", ns, "--show-secrets")
	if !strings.Contains(r.stdout, "AWS_SECRET_ACCESS_KEY\tenv-secret") {
		t.Errorf("--show-secrets: %s", r.stdout)
	}
	r = runCluster(t, nil, "backingstore", "status", "aws1", "-n", ns, "-o", "jsonpath={.status.mode.modeCode}")
	if r.stdout != "AUTH_FAILED" {
		t.Errorf("jsonpath: %q", r.stdout)
	}
	r = runCluster(t, nil, "backingstore", "status", "nope", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, `backingstore "nope" in namespace "`+ns+`"`) || !strings.Contains(r.stderr, "nb backingstore list") {
		t.Errorf("missing: %+v", r)
	}
}

func TestClusterDeleteRefusesStoreInUseAndWaitsForFinalizers(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	if r := runCluster(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	if r := runCluster(t, nil, "bucketclass", "create", "placement-bucketclass", "bc1", "--backingstores", "pv1", "-n", ns, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	r := runCluster(t, nil, "backingstore", "delete", "pv1", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, `backingstore "pv1" is used by bucketclass "bc1"`) || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("in use: %+v", r)
	}
	waitFor(t, nbv1.BackingStoreGVR, ns, "pv1")

	// The operator's finalizer holds the store until it has cleaned up.
	patch := []byte(`{"metadata":{"finalizers":["noobaa.io/finalizer"]}}`)
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Patch(context.Background(), "pv1", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	ch, _ := startNB(t, restCfg, nil, "backingstore", "delete", "pv1", "-n", ns, "--force", "--timeout", "20s")
	expectPending(t, ch, 500*time.Millisecond)
	release := []byte(`{"metadata":{"finalizers":null}}`)
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Patch(context.Background(), "pv1", types.MergePatchType, release, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	r = <-ch
	if r.code != 0 || r.stdout != "backingstore.noobaa.io/pv1 deleted\n" || !strings.Contains(r.stderr, "still use it") {
		t.Fatalf("delete: %+v", r)
	}

	// A finalizer nobody releases: exit 4 naming it.
	if r := runCluster(t, nil, "bucketclass", "delete", "bc1", "-n", ns, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	if r := runCluster(t, nil, "backingstore", "create", "pv-pool", "pv2", "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Patch(context.Background(), "pv2", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	r = runCluster(t, nil, "backingstore", "delete", "pv2", "-n", ns, "--timeout", "1s")
	if r.code != 4 || !strings.Contains(r.stderr, "finalizers [noobaa.io/finalizer] still hold it") {
		t.Errorf("stuck delete: %+v", r)
	}
	_, _ = dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Patch(context.Background(), "pv2", types.MergePatchType, release, metav1.PatchOptions{})
}

func TestClusterBucketClassInUseByClaim(t *testing.T) {
	needCluster(t)
	ns, app := newNamespace(t), newNamespace(t)
	if r := runCluster(t, nil, "bucketclass", "create", "placement-bucketclass", "bc1", "--backingstores", "a", "-n", ns, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	if r := runCluster(t, nil, "obc", "create", "c1", "--bucketclass", "bc1", "-n", app, "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	r := runCluster(t, nil, "bucketclass", "delete", "bc1", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, "obc "+app+"/c1") {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterClaimConnectionDetails(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, _ := startNB(t, restCfg, nil, "obc", "create", "c1", "-n", ns)
	obc := waitFor(t, obv1.ObjectBucketClaimGVR, ns, "c1")

	r := runCluster(t, nil, "obc", "status", "c1", "-n", ns, "-o", "env")
	if r.code != 3 || !strings.Contains(r.stderr, "no connection details yet") {
		t.Errorf("env before Bound: %+v", r)
	}

	// Play the provisioner: ConfigMap and Secret named after the claim, then Bound.
	owner := []metav1.OwnerReference{{APIVersion: "objectbucket.io/v1alpha1", Kind: "ObjectBucketClaim", Name: "c1", UID: obc.GetUID()}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: ns, OwnerReferences: owner},
		Data: map[string]string{"BUCKET_HOST": "s3.noobaa.svc", "BUCKET_PORT": "443", "BUCKET_NAME": "c1-1234", "BUCKET_REGION": ""}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: ns, OwnerReferences: owner},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIACLAIM", "AWS_SECRET_ACCESS_KEY": "claim'secret"}}
	if _, err := core.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.CoreV1().Secrets(ns).Create(context.Background(), sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setStatus(t, obv1.ObjectBucketClaimGVR, ns, "c1", map[string]interface{}{"phase": "Bound"})
	r = <-ch
	if r.code != 0 || !strings.Contains(r.stdout, "BUCKET_HOST\ts3.noobaa.svc") || !strings.Contains(r.stdout, "AWS_SECRET_ACCESS_KEY\t********") || strings.Contains(r.stdout, "claim'secret") {
		t.Errorf("create output: %+v", r)
	}

	r = runCluster(t, nil, "obc", "status", "c1", "-n", ns, "-o", "env")
	if r.code != 0 || !strings.Contains(r.stdout, "export BUCKET_HOST='s3.noobaa.svc'\n") || !strings.Contains(r.stdout, "export AWS_ENDPOINT_URL='https://s3.noobaa.svc'\n") ||
		strings.Contains(r.stdout, "AWS_ACCESS_KEY_ID") || strings.Contains(r.stdout, "AWS_SECRET_ACCESS_KEY") || !strings.Contains(r.stderr, "--show-secrets") {
		t.Errorf("env: %+v", r)
	}
	r = runCluster(t, nil, "obc", "status", "c1", "-n", ns, "-o", "env", "--show-secrets")
	if !strings.Contains(r.stdout, `export AWS_SECRET_ACCESS_KEY='claim'\''secret'`) {
		t.Errorf("env with secrets: %+v", r)
	}
	r = runCluster(t, nil, "obc", "status", "c1", "-n", ns)
	for _, w := range []string{"Phase:         Bound", "Connection:", "BUCKET_NAME\tc1-1234", "AWS_ACCESS_KEY_ID\t********"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("status lacks %q:\n%s", w, r.stdout)
		}
	}
}

func TestClusterCompletesLiveNames(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	for _, n := range []string{"alpha", "beta"} {
		if r := runCluster(t, nil, "backingstore", "create", "pv-pool", n, "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns, "--wait=false"); r.code != 0 {
			t.Fatal(r)
		}
	}
	r := runCluster(t, nil, "__complete", "backingstore", "status", "-n", ns, "")
	if !strings.HasPrefix(r.stdout, "alpha\nbeta\n:4\n") {
		t.Errorf("status names: %q", r.stdout)
	}
	r = runCluster(t, nil, "__complete", "bucketclass", "create", "placement-bucketclass", "x", "-n", ns, "--backingstores", "alpha,")
	if !strings.HasPrefix(r.stdout, "alpha,beta\n") || strings.Contains(r.stdout, "alpha,alpha") {
		t.Errorf("--backingstores: %q", r.stdout)
	}
}

func TestCompletionIsSilentWhenUnreachable(t *testing.T) {
	cfg := &rest.Config{Host: "http://127.0.0.1:1", Timeout: 5 * time.Second}
	start := time.Now()
	ch, _ := startNB(t, cfg, nil, "__complete", "backingstore", "delete", "")
	r := <-ch
	if r.code != 0 || !strings.HasPrefix(r.stdout, ":4\n") || strings.Contains(r.stdout, "error") {
		t.Errorf("got %+v", r)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("completion took %s", time.Since(start))
	}
}
