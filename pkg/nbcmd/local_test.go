package nbcmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/crdschema"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/localstate"
)

// localRig runs nb's commands on the local state store through the same
// kube.Client as on a cluster: the commands cannot tell the difference.
type localRig struct {
	store *localstate.DB
}

func newLocalRig(t *testing.T) *localRig {
	t.Helper()
	s, err := localstate.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &localRig{store: s}
}

func (l *localRig) start(t *testing.T, env map[string]string, args ...string) <-chan result {
	t.Helper()
	schemas, err := crdschema.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    func(k string) string { return env[k] },
		ReadFile:  os.ReadFile,
		KubeClient: func() (*kube.Client, error) {
			return kube.NewDynamicClient(&localstate.Dynamic{Objects: l.store, Schemas: schemas}, "local state "+l.store.Path()), nil
		},
	}
	ch := make(chan result, 1)
	go func() {
		code := Run(ctx, f, args)
		ch <- result{stdout: out.String(), stderr: errOut.String(), code: code}
	}()
	return ch
}

func (l *localRig) run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	select {
	case r := <-l.start(t, env, args...):
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("nb did not return")
	}
	return result{}
}

func (l *localRig) waitFor(t *testing.T, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if obj, err := l.store.Get(context.Background(), gvr, ns, name); err == nil {
			return obj
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s/%s never appeared", gvr.Resource, name)
	return nil
}

func (l *localRig) setStatus(t *testing.T, gvr schema.GroupVersionResource, ns, name string, status map[string]interface{}) {
	t.Helper()
	obj := l.waitFor(t, gvr, ns, name)
	obj.Object["status"] = status
	if _, err := l.store.UpdateStatus(context.Background(), gvr, obj); err != nil {
		t.Fatal(err)
	}
}

func TestLocalStoreServesTheSameCommands(t *testing.T) {
	l := newLocalRig(t)
	ch := l.start(t, awsEnv, "backingstore", "create", "aws-s3", "aws1", "--target-bucket", "nb-bucket", "-n", "noobaa", "--timeout", "10s")
	l.waitFor(t, nbv1.BackingStoreGVR, "noobaa", "aws1")
	l.setStatus(t, nbv1.BackingStoreGVR, "noobaa", "aws1", storeStatus("Ready", "INITIALIZING", "BackingStorePhaseReady", ""))
	expectPending(t, ch, 300*time.Millisecond)
	l.setStatus(t, nbv1.BackingStoreGVR, "noobaa", "aws1", storeStatus("Ready", "OPTIMAL", "BackingStorePhaseReady", "backing store is ready"))
	r := <-ch
	if r.code != 0 || r.stdout != "secret/backing-store-aws-s3-aws1 created\nbackingstore.noobaa.io/aws1 created\n" || !strings.Contains(r.stderr, "is Ready [OPTIMAL]") {
		t.Fatalf("create: %+v", r)
	}
	secret := l.waitFor(t, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "noobaa", "backing-store-aws-s3-aws1")
	if refs := secret.GetOwnerReferences(); len(refs) != 1 || refs[0].Name != "aws1" {
		t.Errorf("owner references %v", refs)
	}
	if _, ok := secret.Object["stringData"]; ok {
		t.Errorf("stringData must be folded into data")
	}

	r = l.run(t, nil, "backingstore", "status", "aws1", "-n", "noobaa")
	for _, w := range []string{"Phase:         Ready", "Mode:          OPTIMAL", "AWS_SECRET_ACCESS_KEY\t********"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("status lacks %q:\n%s", w, r.stdout)
		}
	}
	r = l.run(t, nil, "backingstore", "list", "-n", "noobaa")
	if !strings.HasPrefix(r.stdout, "aws1\taws-s3\tReady\tOPTIMAL\t") {
		t.Errorf("list: %q", r.stdout)
	}

	// AlreadyExists rolls the new Secret back, as on a cluster.
	r = l.run(t, nil, "backingstore", "create", "pv-pool", "aws1", "--num-volumes", "1", "--pv-size-gb", "16", "-n", "noobaa")
	if r.code != 1 || !strings.Contains(r.stderr, `backingstore "aws1" already exists`) {
		t.Errorf("duplicate: %+v", r)
	}
	if _, err := l.store.Get(context.Background(), schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, "noobaa", "backing-store-pv-pool-aws1"); err == nil {
		t.Error("the Secret of the failed create was left behind")
	}

	// Server dry run persists nothing.
	r = l.run(t, nil, "bucketclass", "create", "placement-bucketclass", "bc", "--backingstores", "aws1", "-n", "noobaa", "--dry-run=server")
	if r.code != 0 || !strings.Contains(r.stdout, "(server dry run)") {
		t.Errorf("server dry run: %+v", r)
	}
	if _, err := l.store.Get(context.Background(), nbv1.BucketClassGVR, "noobaa", "bc"); err == nil {
		t.Error("server dry run persisted the class")
	}

	// Delete refuses a store in use, then waits for the finalizer.
	if r := l.run(t, nil, "bucketclass", "create", "placement-bucketclass", "bc", "--backingstores", "aws1", "-n", "noobaa", "--wait=false"); r.code != 0 {
		t.Fatal(r)
	}
	r = l.run(t, nil, "backingstore", "delete", "aws1", "-n", "noobaa")
	if r.code != 1 || !strings.Contains(r.stderr, `used by bucketclass "bc"`) {
		t.Errorf("in use: %+v", r)
	}
}

func TestLocalClaimPendingShowsWarnings(t *testing.T) {
	l := newLocalRig(t)
	ch := l.start(t, nil, "obc", "create", "c1", "--bucketclass", "nope", "-n", "apps", "--timeout", "1500ms")
	obc := l.waitFor(t, obv1.ObjectBucketClaimGVR, "apps", "c1")
	l.setStatus(t, obv1.ObjectBucketClaimGVR, "apps", "c1", map[string]interface{}{"phase": "Pending"})
	ev := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Event",
		"metadata":       map[string]interface{}{"name": "c1.1", "namespace": "apps"},
		"involvedObject": map[string]interface{}{"kind": "ObjectBucketClaim", "name": "c1", "namespace": "apps", "uid": string(obc.GetUID())},
		"type":           "Warning", "reason": "BucketClassNotReady", "message": `BucketClass "nope" is not ready`,
	}}
	if _, err := l.store.Create(context.Background(), schema.GroupVersionResource{Version: "v1", Resource: "events"}, ev); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.code != 4 || !strings.Contains(r.stderr, "warning: obc event BucketClassNotReady") || !strings.Contains(r.stderr, "last phase Pending") {
		t.Errorf("got %+v", r)
	}
}

func TestLocalSchemaValidationLikeTheAPIServer(t *testing.T) {
	l := newLocalRig(t)
	schemas, _ := crdschema.Load()
	client := kube.NewDynamicClient(&localstate.Dynamic{Objects: l.store, Schemas: schemas}, "local")
	bad := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "bad", "namespace": "noobaa"},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "mirror", "backingStores": []interface{}{"a", "b"}}}}},
	}}
	_, err := client.Create(context.Background(), kube.CreateRequest{Object: bad, GVR: nbv1.BucketClassGVR, Noun: "bucketclass"})
	if err == nil || !strings.Contains(err.Error(), "spec.placementPolicy.tiers[0].placement") {
		t.Fatalf("got %v", err)
	}
}
