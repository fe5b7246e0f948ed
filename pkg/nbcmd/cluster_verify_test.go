package nbcmd

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	s3store "github.com/nbctl/nb/pkg/blockstore/s3"
	"github.com/nbctl/nb/pkg/internal/versitygw"
	"github.com/nbctl/nb/pkg/verify"
)

// clusterClaim plays the operator and the provisioner on envtest: two
// Ready pv-pool stores, a Mirror class, and a Bound claim whose ConfigMap
// points at a real versitygw standing in for NooBaa's S3 endpoint.
func clusterClaim(t *testing.T) (ns string, srv *versitygw.Server) {
	t.Helper()
	ns = newNamespace(t)
	srv = versitygw.Start(t)
	srv.Bucket(t, "c1-bucket")
	ctx := context.Background()
	for _, s := range []string{"pv1", "pv2"} {
		obj := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
			"metadata": map[string]interface{}{"name": s, "namespace": ns},
			"spec":     map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{"numVolumes": int64(1)}},
		}}
		if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		setStatus(t, nbv1.BackingStoreGVR, ns, s, storeStatus("Ready", "OPTIMAL", "BackingStorePhaseReady", ""))
	}
	bc := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "mirror", "namespace": ns},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "Mirror", "backingStores": []interface{}{"pv1", "pv2"}}}}},
	}}
	if _, err := dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Create(ctx, bc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	claim := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
		"metadata": map[string]interface{}{"name": "c1", "namespace": ns},
		"spec": map[string]interface{}{"storageClassName": ns + ".noobaa.io", "bucketName": "c1-bucket",
			"additionalConfig": map[string]interface{}{"bucketclass": "mirror"}},
	}}
	if _, err := dyn.Resource(obv1.ObjectBucketClaimGVR).Namespace(ns).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.Endpoint)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: ns},
		Data: map[string]string{"BUCKET_HOST": u.Hostname(), "BUCKET_PORT": u.Port(), "BUCKET_NAME": "c1-bucket", "BUCKET_REGION": "us-east-1"}}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: ns},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}}
	if _, err := core.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setStatus(t, obv1.ObjectBucketClaimGVR, ns, "c1", map[string]interface{}{"phase": "Bound"})
	return ns, srv
}

func decodeReport(t *testing.T, r result) verify.Report {
	t.Helper()
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%+v", err, r)
	}
	return rep
}

func TestClusterVerifyRoundTripAndPrediction(t *testing.T) {
	needCluster(t)
	ns, srv := clusterClaim(t)
	r := runCluster(t, nil, "verify", "c1", "-n", ns, "--size", "20Mi", "-o", "json")
	if r.code != 0 {
		t.Fatalf("verify: %+v", r)
	}
	rep := decodeReport(t, r)
	if rep.Target != "cluster" || rep.Bucket != "c1-bucket" || rep.Size != 20<<20 || !rep.OK {
		t.Errorf("report %+v", rep)
	}
	got := results(rep)
	want := map[string]string{"": "promised intact", "pv1": "promised not tried", "pv2": "promised not tried", "pv1+pv2": "unpromised not tried"}
	if !mapsEqual(got, want) {
		t.Errorf("cases %v, want %v", got, want)
	}
	if !strings.Contains(rep.Verdict, "survives the loss of pv1 or pv2") {
		t.Errorf("verdict %q", rep.Verdict)
	}
	// The test object was removed from the bucket.
	if n := objectsIn(t, srv, "c1-bucket"); n != 0 {
		t.Errorf("%d objects left in the bucket", n)
	}

	// With pv2 Rejected, losing pv1 would lose the data.
	setStatus(t, nbv1.BackingStoreGVR, ns, "pv2", storeStatus("Rejected", "IO_ERRORS", "IO_ERRORS", "cannot reach"))
	rep = decodeReport(t, runCluster(t, nil, "verify", "c1", "-n", ns, "--size", "1Mi", "-o", "json"))
	if got := results(rep); got["pv1"] != "unpromised not tried" || got["pv2"] != "promised not tried" {
		t.Errorf("with pv2 down: %v", got)
	}
}

func objectsIn(t *testing.T, srv *versitygw.Server, bucket string) int {
	t.Helper()
	st, err := s3store.New(s3store.Config{Name: "t", Endpoint: srv.Endpoint, Bucket: bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := st.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return -1
	}
	return len(out.Contents)
}

func TestClusterVerifyDisruptRestoresTheClass(t *testing.T) {
	needCluster(t)
	ns, srv := clusterClaim(t)
	before, err := dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Get(context.Background(), "mirror", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := runCluster(t, nil, "verify", "c1", "-n", ns, "--size", "3Mi", "--disrupt", "-o", "json")
	if r.code != 0 {
		t.Fatalf("verify --disrupt: %+v", r)
	}
	rep := decodeReport(t, r)
	if got := results(rep); got["pv1"] != "promised intact" || got["pv2"] != "promised intact" {
		t.Errorf("cases %v", got)
	}
	after, _ := dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Get(context.Background(), "mirror", metav1.GetOptions{})
	if after.GetGeneration() != before.GetGeneration()+4 {
		t.Errorf("generation %d -> %d: want each of the 2 stores dropped and restored", before.GetGeneration(), after.GetGeneration())
	}
	if !equalJSON(after.Object["spec"], before.Object["spec"]) {
		t.Errorf("class not restored: %v, was %v", after.Object["spec"], before.Object["spec"])
	}

	// An injected failure: the endpoint goes away after the upload, while
	// nb waits for mirroring to settle. Each read then fails where Mirror
	// promised survival (exit 3), and the class is restored every time.
	ch, _ := startNB(t, restCfg, nil, "verify", "c1", "-n", ns, "--size", "1Mi", "--disrupt", "--settle", "3s")
	for i := 0; i < 300 && objectsIn(t, srv, "c1-bucket") < 1; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	srv.Stop()
	r = <-ch
	if r.code != 3 || !strings.Contains(r.stdout, "FAILED") || !strings.Contains(r.stdout, "unavailable") {
		t.Errorf("endpoint lost during --disrupt: %+v", r)
	}
	final, _ := dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Get(context.Background(), "mirror", metav1.GetOptions{})
	if !equalJSON(final.Object["spec"], before.Object["spec"]) || final.GetGeneration() != after.GetGeneration()+4 {
		t.Errorf("class after the failed run: generation %d (want %d), spec %v", final.GetGeneration(), after.GetGeneration()+4, final.Object["spec"])
	}
}

func equalJSON(a, b interface{}) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// fakeProvisioner plays lib-bucket-provisioner for the claims nb verify
// creates in ns: for each one it makes a versitygw bucket, the claim's
// ConfigMap and Secret, and marks it Bound. It stops with the test.
func fakeProvisioner(t *testing.T, ns string, srv *versitygw.Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	u, _ := url.Parse(srv.Endpoint)
	go func() {
		defer close(done)
		bound := map[string]bool{}
		for ctx.Err() == nil {
			list, err := dyn.Resource(obv1.ObjectBucketClaimGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: verify.LabelVerify + "=true"})
			if err == nil {
				for _, c := range list.Items {
					name := c.GetName()
					if bound[name] || c.GetDeletionTimestamp() != nil {
						continue
					}
					bound[name] = true
					srv.Bucket(t, name)
					cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
						Data: map[string]string{"BUCKET_HOST": u.Hostname(), "BUCKET_PORT": u.Port(), "BUCKET_NAME": name}}
					sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
						StringData: map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}}
					_, _ = core.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
					_, _ = core.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
					c.Object["status"] = map[string]interface{}{"phase": "Bound"}
					_, _ = dyn.Resource(obv1.ObjectBucketClaimGVR).Namespace(ns).UpdateStatus(ctx, &c, metav1.UpdateOptions{})
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

func verifyClaims(t *testing.T, ns string) []unstructured.Unstructured {
	t.Helper()
	list, err := dyn.Resource(obv1.ObjectBucketClaimGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{LabelSelector: verify.LabelVerify + "=true"})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestClusterVerifyBucketClassUsesATemporaryClaim(t *testing.T) {
	needCluster(t)
	ns, srv := clusterClaim(t)
	fakeProvisioner(t, ns, srv)

	r := runCluster(t, nil, "verify", "--bucketclass", "mirror", "-n", ns, "--size", "2Mi", "-o", "json")
	if r.code != 0 {
		t.Fatalf("verify --bucketclass: %+v", r)
	}
	rep := decodeReport(t, r)
	if !rep.TemporaryClaim || !strings.HasPrefix(rep.Claim, "nb-verify-") || rep.Bucket != rep.Claim || rep.BucketClass != "mirror" || !rep.OK {
		t.Errorf("report %+v", rep)
	}
	if got := results(rep); got[""] != "promised intact" || got["pv1"] != "promised not tried" {
		t.Errorf("cases %v", got)
	}
	if left := verifyClaims(t, ns); len(left) != 0 {
		t.Errorf("temporary claim left behind: %s", left[0].GetName())
	}
	if n := objectsIn(t, srv, rep.Bucket); n != 0 {
		t.Errorf("%d objects left in the temporary bucket", n)
	}

	// --keep keeps the claim and says how to delete it.
	r = runCluster(t, nil, "verify", "--bucketclass", "mirror", "-n", ns, "--size", "1Mi", "--keep")
	if r.code != 0 || !strings.Contains(r.stdout, "nb obc delete nb-verify-") {
		t.Fatalf("verify --bucketclass --keep: %+v", r)
	}
	if left := verifyClaims(t, ns); len(left) != 1 {
		t.Errorf("--keep: %d temporary claims, want 1", len(left))
	}

	// A missing class is named before anything is created.
	r = runCluster(t, nil, "verify", "--bucketclass", "nope", "-n", ns)
	if r.code == 0 || !strings.Contains(r.stderr, `"nope"`) || len(verifyClaims(t, ns)) != 1 {
		t.Errorf("missing class: %+v", r)
	}
}

func TestClusterVerifyTemporaryClaimThatNeverBindsIsDeleted(t *testing.T) {
	needCluster(t)
	ns, _ := clusterClaim(t) // no provisioner: the claim stays Pending
	r := runCluster(t, nil, "verify", "--bucketclass", "mirror", "-n", ns, "--timeout", "1s")
	if r.code != 4 || !strings.Contains(r.stderr, "temporary claim nb-verify-") {
		t.Errorf("never bound: want exit 4 naming the claim, got %+v", r)
	}
	if left := verifyClaims(t, ns); len(left) != 0 && left[0].GetDeletionTimestamp() == nil {
		t.Errorf("the unbound temporary claim %s was not deleted", left[0].GetName())
	}
}

func TestClusterVerifyEndpointKeysFromNooBaaAdmin(t *testing.T) {
	needCluster(t)
	ns, srv := clusterClaim(t)
	ctx := context.Background()
	// The claim's own keys are wrong; noobaa-admin's are right.
	sec, err := core.CoreV1().Secrets(ns).Get(ctx, "c1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data = map[string][]byte{"AWS_ACCESS_KEY_ID": []byte("wrong"), "AWS_SECRET_ACCESS_KEY": []byte("wrong")}
	if _, err := core.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: verify.AdminSecret, Namespace: ns},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}}
	if _, err := core.CoreV1().Secrets(ns).Create(ctx, admin, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := runCluster(t, nil, "verify", "c1", "-n", ns, "--size", "1Mi", "--endpoint", srv.Endpoint); r.code != 0 {
		t.Errorf("--endpoint with noobaa-admin keys: %+v", r)
	}
	// Keys from the environment win over noobaa-admin.
	r := runCluster(t, map[string]string{"AWS_ACCESS_KEY_ID": "env", "AWS_SECRET_ACCESS_KEY": "env"},
		"verify", "c1", "-n", ns, "--size", "1Mi", "--endpoint", srv.Endpoint)
	if r.code == 0 {
		t.Errorf("wrong keys from the environment were not used: %+v", r)
	}
	// Without --endpoint the claim's own (wrong) keys are used.
	if r := runCluster(t, nil, "verify", "c1", "-n", ns, "--size", "1Mi"); r.code == 0 {
		t.Errorf("the claim's keys were not used: %+v", r)
	}
}
