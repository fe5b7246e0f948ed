package nbcmd

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/localstate"
)

// The cluster tier runs against a real kube-apiserver and etcd with nb's
// CRDs installed; `make test` builds them and sets KUBEBUILDER_ASSETS.
var (
	testEnv *envtest.Environment
	restCfg *rest.Config
	dyn     dynamic.Interface
	core    kubernetes.Interface
)

func TestMain(m *testing.M) {
	// The test binary doubles as nb, for tests that run several nb
	// processes at once.
	if os.Getenv("NB_TEST_BINARY_IS_NB") == "1" {
		os.Exit(Main())
	}
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test` (it builds kube-apiserver and etcd), or `go test -short` for the unit tiers only")
		os.Exit(1)
	}
	testEnv = &envtest.Environment{CRDDirectoryPaths: []string{"../apis/crds"}, ErrorIfCRDPathMissing: true}
	var err error
	if restCfg, err = testEnv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		os.Exit(1)
	}
	dyn = dynamic.NewForConfigOrDie(restCfg)
	core = kubernetes.NewForConfigOrDie(restCfg)
	code := m.Run()
	if err := testEnv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop envtest:", err)
	}
	os.Exit(code)
}

func needCluster(t *testing.T) {
	t.Helper()
	if restCfg == nil {
		t.Skip("cluster tier: runs without -short")
	}
}

// newNamespace creates a namespace unique to the test.
func newNamespace(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", time.Now().UnixNano()%1e12)
	if _, err := core.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}

// startNB runs nb against cfg in the background; cancel interrupts it.
func startNB(t testing.TB, cfg *rest.Config, env map[string]string, args ...string) (results <-chan result, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan result, 1)
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams:  ios,
		Getenv:     func(k string) string { return env[k] },
		ReadFile:   os.ReadFile,
		KubeClient: cmdutil.StaticClient(cfg),
	}
	go func() {
		code := Run(ctx, f, args)
		ch <- result{stdout: out.String(), stderr: errOut.String(), code: code}
	}()
	t.Cleanup(cancel)
	return ch, cancel
}

func runCluster(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ch, _ := startNB(t, restCfg, env, args...)
	select {
	case r := <-ch:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("nb did not return within 60s")
	}
	return result{}
}

// waitFor polls until the object exists (the operator's view of a create).
func waitFor(t testing.TB, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		obj, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			return obj
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s %s/%s never appeared", gvr.Resource, ns, name)
	return nil
}

// setStatus plays the operator: it writes status through the subresource.
func setStatus(t testing.TB, gvr schema.GroupVersionResource, ns, name string, status map[string]interface{}) {
	t.Helper()
	for i := 0; i < 10; i++ {
		obj := waitFor(t, gvr, ns, name)
		obj.Object["status"] = status
		_, err := dyn.Resource(gvr).Namespace(ns).UpdateStatus(context.Background(), obj, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("status update kept conflicting")
}

func conditions(status, reason, message string) []interface{} {
	now := time.Now().UTC().Format(time.RFC3339)
	avail, degraded := "False", "False"
	switch status {
	case "Ready":
		avail = "True"
	case "Rejected":
		avail, degraded = "Unknown", "True"
	}
	return []interface{}{
		map[string]interface{}{"type": "Available", "status": avail, "reason": reason, "message": message, "lastTransitionTime": now, "lastHeartbeatTime": now},
		map[string]interface{}{"type": "Degraded", "status": degraded, "reason": reason, "message": message, "lastTransitionTime": now, "lastHeartbeatTime": now},
	}
}

func storeStatus(phase, mode, reason, message string) map[string]interface{} {
	s := map[string]interface{}{"phase": phase, "conditions": conditions(phase, reason, message)}
	if mode != "" {
		s["mode"] = map[string]interface{}{"modeCode": mode, "timeStamp": time.Now().UTC().Format(time.RFC3339)}
	}
	return s
}

func expectPending(t *testing.T, ch <-chan result, d time.Duration) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("nb returned early: %+v", r)
	case <-time.After(d):
	}
}

func TestClusterCreateWaitsForReadyAndOptimal(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, _ := startNB(t, restCfg, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns, "--timeout", "30s")
	waitFor(t, nbv1.BackingStoreGVR, ns, "pv1")
	setStatus(t, nbv1.BackingStoreGVR, ns, "pv1", storeStatus("Creating", "", "BackingStorePhaseCreating", "noobaa operator started phase 3/3"))
	expectPending(t, ch, 300*time.Millisecond)
	// The operator may report Ready while the pool is still INITIALIZING.
	setStatus(t, nbv1.BackingStoreGVR, ns, "pv1", storeStatus("Ready", "INITIALIZING", "BackingStorePhaseReady", "backing store is ready"))
	expectPending(t, ch, 300*time.Millisecond)
	setStatus(t, nbv1.BackingStoreGVR, ns, "pv1", storeStatus("Ready", "OPTIMAL", "BackingStorePhaseReady", "backing store is ready"))
	r := <-ch
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	want := "secret/backing-store-pv-pool-pv1 created\nbackingstore.noobaa.io/pv1 created\n"
	if r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	for _, w := range []string{"Creating", "INITIALIZING", "is Ready [OPTIMAL]", "no NooBaa system"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, r.stderr)
		}
	}
	secret, err := core.CoreV1().Secrets(ns).Get(context.Background(), "backing-store-pv-pool-pv1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bs := waitFor(t, nbv1.BackingStoreGVR, ns, "pv1")
	refs := secret.OwnerReferences
	if len(refs) != 1 || refs[0].UID != bs.GetUID() || refs[0].Kind != "BackingStore" || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("secret owner references %+v, want the BackingStore as controller", refs)
	}
}

func TestClusterCreateOwnedByNooBaaSystem(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	// No NooBaa CRD is installed in the test cluster; a ConfigMap named
	// like the system stands in for "some owner" only to check that, when
	// missing, nb warns and still creates.
	r := runCluster(t, nil, "bucketclass", "create", "placement-bucketclass", "bc1", "--backingstores", "a,b", "--placement", "Mirror", "-n", ns, "--wait=false")
	if r.code != 0 || r.stdout != "bucketclass.noobaa.io/bc1 created\n" || !strings.Contains(r.stderr, "no NooBaa system") {
		t.Fatalf("got %+v", r)
	}
	bc := waitFor(t, nbv1.BucketClassGVR, ns, "bc1")
	tiers, _, _ := unstructured.NestedSlice(bc.Object, "spec", "placementPolicy", "tiers")
	if len(tiers) != 1 {
		t.Errorf("tiers %v", tiers)
	}
}

func TestClusterRejectedExits3WithReason(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, _ := startNB(t, restCfg, awsEnv, "backingstore", "create", "s3-compatible", "bad1", "--endpoint", "http://127.0.0.1:9", "--target-bucket", "b1", "-n", ns)
	waitFor(t, nbv1.BackingStoreGVR, ns, "bad1")
	setStatus(t, nbv1.BackingStoreGVR, ns, "bad1", storeStatus("Rejected", "AUTH_FAILED", "AUTH_FAILED", "the access key was refused"))
	r := <-ch
	if r.code != 3 {
		t.Fatalf("exit %d, want 3: %s", r.code, r.stderr)
	}
	for _, w := range []string{"rejected", "AUTH_FAILED", "the access key was refused", "Rejected"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, r.stderr)
		}
	}
}

func TestClusterTimeoutExits4(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	r := runCluster(t, nil, "backingstore", "create", "pv-pool", "slow", "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns, "--timeout", "1500ms")
	if r.code != 4 || !strings.Contains(r.stderr, "timed out waiting for backingstore \"slow\"") || !strings.Contains(r.stderr, "last phase") {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterInterruptExits130AndKeepsObjects(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, cancel := startNB(t, restCfg, nil, "backingstore", "create", "pv-pool", "pv-int", "--num-volumes", "1", "--pv-size-gb", "16", "-n", ns)
	waitFor(t, nbv1.BackingStoreGVR, ns, "pv-int")
	time.Sleep(200 * time.Millisecond)
	cancel()
	r := <-ch
	if r.code != 130 || !strings.Contains(r.stderr, `interrupted: stopped waiting for backingstore "pv-int" (it was left as it is`) {
		t.Fatalf("exit %d, want 130: %s", r.code, r.stderr)
	}
	waitFor(t, nbv1.BackingStoreGVR, ns, "pv-int")
	if _, err := core.CoreV1().Secrets(ns).Get(context.Background(), "backing-store-pv-pool-pv-int", metav1.GetOptions{}); err != nil {
		t.Errorf("the Secret must be left with its store: %v", err)
	}
}

func TestClusterAlreadyExistsRollsBackSecret(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	existing := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": "dup", "namespace": ns},
		"spec":     map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{"numVolumes": int64(1)}},
	}}
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Create(context.Background(), existing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runCluster(t, awsEnv, "backingstore", "create", "aws-s3", "dup", "--target-bucket", "nb-bucket", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, `backingstore "dup" already exists`) || !strings.Contains(r.stderr, "nb backingstore status dup") {
		t.Fatalf("got %+v", r)
	}
	_, err := core.CoreV1().Secrets(ns).Get(context.Background(), "backing-store-aws-s3-dup", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the Secret nb created must be deleted again, got err=%v", err)
	}
}

func TestClusterSecretAlreadyExists(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "backing-store-aws-s3-s1", Namespace: ns}}
	if _, err := core.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runCluster(t, awsEnv, "backingstore", "create", "aws-s3", "s1", "--target-bucket", "nb-bucket", "-n", ns)
	if r.code != 1 || !strings.Contains(r.stderr, `secret "backing-store-aws-s3-s1" already exists`) || !strings.Contains(r.stderr, "--secret-name") {
		t.Fatalf("got %+v", r)
	}
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Get(context.Background(), "s1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("no BackingStore may be created, got %v", err)
	}
}

// What a create whose rollback failed left (a Secret nb made for the store,
// owned by nothing) is replaced by the next create, on a real API server.
func TestClusterOrphanSecretIsReplaced(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "backing-store-aws-s3-s2", Namespace: ns,
		Labels: map[string]string{"app": "noobaa"}, Annotations: map[string]string{nbv1.AnnotationSecretFor: "BackingStore/s2"}},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": "old", "AWS_SECRET_ACCESS_KEY": "old"}}
	if _, err := core.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runCluster(t, awsEnv, "backingstore", "create", "aws-s3", "s2", "--target-bucket", "nb-bucket", "-n", ns, "--wait=false")
	if r.code != 0 {
		t.Fatalf("got %+v", r)
	}
	got, err := core.CoreV1().Secrets(ns).Get(context.Background(), "backing-store-aws-s3-s2", metav1.GetOptions{})
	if err != nil || string(got.Data["AWS_ACCESS_KEY_ID"]) == "old" || len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Name != "s2" {
		t.Errorf("the orphan was not replaced and owned: %v %+v", err, got)
	}
}

// nb apply on a real API server: server-side apply with field manager nb;
// a second apply is unchanged, an edit configured, a server dry run
// persists nothing.
func TestClusterApply(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	raw, err := os.ReadFile(walkthrough)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "w.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(raw), "namespace: noobaa", "namespace: "+ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCluster(t, nil, "apply", "-f", file, "-n", ns, "--wait=false")
	if r.code != 0 || strings.Count(r.stdout, " created") != 5 {
		t.Fatalf("apply: %+v", r)
	}
	bc, err := dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Get(context.Background(), "mirror-bucket-class", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	managed := false
	for _, m := range bc.GetManagedFields() {
		managed = managed || (m.Manager == "nb" && m.Operation == metav1.ManagedFieldsOperationApply)
	}
	if !managed {
		t.Errorf("the class was not server-side applied by nb: %+v", bc.GetManagedFields())
	}
	if r := runCluster(t, nil, "apply", "-f", file, "-n", ns, "--wait=false"); r.code != 0 || strings.Count(r.stdout, " unchanged") != 5 {
		t.Errorf("second apply: %+v", r)
	}
	edited := filepath.Join(t.TempDir(), "e.yaml")
	b, _ := os.ReadFile(file)
	if err := os.WriteFile(edited, []byte(strings.Replace(string(b), "      - pv-a\n      - pv-b\n", "      - pv-a\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCluster(t, nil, "apply", "-f", edited, "-n", ns, "--wait=false"); r.code != 0 || !strings.Contains(r.stdout, "bucketclass.noobaa.io/mirror-bucket-class configured") {
		t.Errorf("edited apply: %+v", r)
	}
	bc, _ = dyn.Resource(nbv1.BucketClassGVR).Namespace(ns).Get(context.Background(), "mirror-bucket-class", metav1.GetOptions{})
	tiers, _, _ := unstructured.NestedSlice(bc.Object, "spec", "placementPolicy", "tiers")
	if toJSON(tiers) != `[{"backingStores":["pv-a"],"placement":"Mirror"}]` {
		t.Errorf("class after the edit: %s", toJSON(tiers))
	}
	cm := filepath.Join(t.TempDir(), "cm.yaml")
	if err := os.WriteFile(cm, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: {a: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCluster(t, nil, "apply", "-f", cm, "-n", ns, "--dry-run=server"); r.code != 0 || !strings.Contains(r.stdout, "configmap/cm1 created (server dry run)") {
		t.Errorf("server dry run: %+v", r)
	}
	if _, err := core.CoreV1().ConfigMaps(ns).Get(context.Background(), "cm1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a server dry run persisted the ConfigMap: %v", err)
	}
}

// The federation guide's manifests (testdata/apply/federation) apply on a
// real API server as they do on the local target.
func TestClusterApplyTheGuidesManifests(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	src := "../../testdata/apply/federation"
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(strings.ReplaceAll(string(raw), "namespace: noobaa", "namespace: "+ns)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := runCluster(t, nil, "apply", "-f", dir, "-n", ns, "--wait=false")
	if r.code != 0 || strings.Count(r.stdout, " created") != 5 {
		t.Fatalf("apply -f DIR: %+v", r)
	}
	bs, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Get(context.Background(), "aws-s3-store", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _, _ := unstructured.NestedString(bs.Object, "spec", "awsS3", "targetBucket"); b != "noobaa-federation-demo" {
		t.Errorf("aws-s3-store: %v", bs.Object["spec"])
	}
	sec, err := core.CoreV1().Secrets(ns).Get(context.Background(), "aws-s3-creds", metav1.GetOptions{})
	if err != nil || string(sec.Data["AWS_ACCESS_KEY_ID"]) != "ACCESS_KEY" {
		t.Errorf("the Secret: %v %v", err, sec)
	}
	// The local target makes the same objects of the same files.
	l := newLocalNB(t)
	l.ok(t, nil, "apply", "-f", dir, "-n", ns, "--wait=false")
	st, err := localstate.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{nbv1.BackingStoreGVR, "aws-s3-store"}, {nbv1.BackingStoreGVR, "pv-store"}, {nbv1.BucketClassGVR, "federated-bucket-class"}, {obcGVR(), "federated-bucket"}} {
		remote, err := dyn.Resource(o.gvr).Namespace(ns).Get(context.Background(), o.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		local, err := st.Get(context.Background(), o.gvr, ns, o.name)
		if err != nil {
			t.Fatal(err)
		}
		if toJSON(remote.Object["spec"]) != toJSON(local.Object["spec"]) || toJSON(remote.GetLabels()) != toJSON(local.GetLabels()) {
			t.Errorf("%s %s differs:\ncluster %s %s\nlocal   %s %s", o.gvr.Resource, o.name, toJSON(remote.Object["spec"]), toJSON(remote.GetLabels()), toJSON(local.Object["spec"]), toJSON(local.GetLabels()))
		}
	}
}

func TestClusterServerDryRunPersistsNothing(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	r := runCluster(t, awsEnv, "backingstore", "create", "aws-s3", "dry", "--target-bucket", "nb-bucket", "-n", ns, "--dry-run=server")
	if r.code != 0 || !strings.Contains(r.stdout, "backingstore.noobaa.io/dry created (server dry run)") {
		t.Fatalf("got %+v", r)
	}
	if _, err := dyn.Resource(nbv1.BackingStoreGVR).Namespace(ns).Get(context.Background(), "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("server dry run persisted the store: %v", err)
	}
	if _, err := core.CoreV1().Secrets(ns).Get(context.Background(), "backing-store-aws-s3-dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("server dry run persisted the Secret: %v", err)
	}
}

func TestClusterClaimPendingShowsWarningThenTimesOut(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, _ := startNB(t, restCfg, nil, "obc", "create", "c1", "--bucketclass", "nope", "-n", ns, "--timeout", "3s")
	obc := waitFor(t, obv1.ObjectBucketClaimGVR, ns, "c1")
	setStatus(t, obv1.ObjectBucketClaimGVR, ns, "c1", map[string]interface{}{"phase": "Pending"})
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "c1.warn", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "ObjectBucketClaim", Name: "c1", Namespace: ns, UID: obc.GetUID(), APIVersion: "objectbucket.io/v1alpha1"},
		Type:           corev1.EventTypeWarning, Reason: "BucketClassNotReady", Message: `BucketClass "nope" is not ready`,
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
	}
	if _, err := core.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.code != 4 {
		t.Fatalf("exit %d, want 4: %s", r.code, r.stderr)
	}
	for _, w := range []string{"warning: obc event BucketClassNotReady", "last phase Pending", `last warning event BucketClassNotReady: BucketClass "nope" is not ready`} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %s", w, r.stderr)
		}
	}
}

func TestClusterClaimBound(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	ch, _ := startNB(t, restCfg, nil, "obc", "create", "c2", "-n", ns, "-o", "yaml")
	setStatus(t, obv1.ObjectBucketClaimGVR, ns, "c2", map[string]interface{}{"phase": "Bound"})
	r := <-ch
	if r.code != 0 || !strings.Contains(r.stdout, "phase: Bound") || !strings.Contains(r.stdout, "storageClassName: "+ns+".noobaa.io") {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterNamespaceMissing(t *testing.T) {
	needCluster(t)
	r := runCluster(t, nil, "obc", "create", "c3", "-n", "no-such-ns")
	if r.code != 2 || !strings.Contains(r.stderr, `namespace "no-such-ns" does not exist`) {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterForbidden(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	user, err := testEnv.AddUser(envtest.User{Name: "limited", Groups: []string{"nb-test"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := startNB(t, user.Config(), awsEnv, "backingstore", "create", "aws-s3", "f1", "--target-bucket", "nb-bucket", "-n", ns)
	r := <-ch
	if r.code != 1 || !strings.Contains(r.stderr, "not allowed to") || !strings.Contains(r.stderr, `user limited`) || !strings.Contains(r.stderr, ns) {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterUnreachable(t *testing.T) {
	cfg := &rest.Config{Host: "http://127.0.0.1:1", Timeout: 5 * time.Second}
	start := time.Now()
	ch, _ := startNB(t, cfg, nil, "obc", "create", "c4", "-n", "x")
	r := <-ch
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the Kubernetes API server at http://127.0.0.1:1") {
		t.Fatalf("got %+v", r)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}

func TestClusterCRDsMissing(t *testing.T) {
	needCluster(t)
	bare := &envtest.Environment{}
	cfg, err := bare.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Stop()
	ch, _ := startNB(t, cfg, nil, "bucketclass", "create", "placement-bucketclass", "b", "--backingstores", "a", "-n", "default")
	r := <-ch
	if r.code != 1 || !strings.Contains(r.stderr, "bucketclasses.noobaa.io is not installed") || !strings.Contains(r.stderr, "install the NooBaa operator") {
		t.Fatalf("got %+v", r)
	}
}

func TestClusterSecretNameIsChecked(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	partial := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "half", Namespace: ns}, StringData: map[string]string{"AWS_ACCESS_KEY_ID": "a"}}
	full := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "full", Namespace: ns}, StringData: map[string]string{"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s"}}
	for _, s := range []*corev1.Secret{partial, full} {
		if _, err := core.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"backingstore", "create", "aws-s3", "x1", "--target-bucket", "nb-bucket", "-n", ns, "--wait=false", "--secret-name"}
	r := runCluster(t, nil, append(base, "absent")...)
	if r.code != 2 || !strings.Contains(r.stderr, `secret "absent" does not exist`) {
		t.Errorf("absent: %+v", r)
	}
	r = runCluster(t, nil, append(base, "half")...)
	if r.code != 2 || !strings.Contains(r.stderr, `secret "half" lacks AWS_SECRET_ACCESS_KEY`) {
		t.Errorf("half: %+v", r)
	}
	r = runCluster(t, nil, append(base, "full")...)
	if r.code != 0 || r.stdout != "backingstore.noobaa.io/x1 created\n" {
		t.Fatalf("full: %+v", r)
	}
	bs := waitFor(t, nbv1.BackingStoreGVR, ns, "x1")
	if name, _, _ := unstructured.NestedString(bs.Object, "spec", "awsS3", "secret", "name"); name != "full" {
		t.Errorf("secret ref %q", name)
	}
	s, _ := core.CoreV1().Secrets(ns).Get(context.Background(), "full", metav1.GetOptions{})
	if len(s.OwnerReferences) != 0 {
		t.Errorf("a reused Secret must not be owned by the store: %+v", s.OwnerReferences)
	}
}

// TestClusterServerValidationNamesFields sends an object the CRD schema
// rejects (nb's own validation would stop it first) and checks that the
// translated error carries the field path.
func TestClusterServerValidationNamesFields(t *testing.T) {
	needCluster(t)
	ns := newNamespace(t)
	client, err := kube.NewClient(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "bad", "namespace": ns},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "mirror", "backingStores": []interface{}{"a", "b"}}}}},
	}}
	_, err = client.Create(context.Background(), kube.CreateRequest{Object: bad, GVR: nbv1.BucketClassGVR, Noun: "bucketclass"})
	if exitcode.Of(err) != exitcode.Rejected || !strings.Contains(err.Error(), "spec.placementPolicy.tiers[0].placement") || !strings.Contains(err.Error(), `"Mirror"`) {
		t.Fatalf("got %v", err)
	}
}
