package resource

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
)

func obj(apiVersion, kind, name string, spec, status map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": "noobaa", "creationTimestamp": "2026-11-30T12:00:00Z"}}}
	if spec != nil {
		o.Object["spec"] = spec
	}
	if status != nil {
		o.Object["status"] = status
	}
	return o
}

// list, status and delete against client-go's fake dynamic client: the
// columns, the summary and the in-use refusal are checked in the fast
// tier, without an API server.
func fakeFactory(t *testing.T, objs ...runtime.Object) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	lists := map[schema.GroupVersionResource]string{
		nbv1.BackingStoreGVR: "BackingStoreList", nbv1.NamespaceStoreGVR: "NamespaceStoreList", nbv1.BucketClassGVR: "BucketClassList",
		obv1.ObjectBucketClaimGVR: "ObjectBucketClaimList", {Version: "v1", Resource: "secrets"}: "SecretList",
		{Version: "v1", Resource: "events"}: "EventList", {Version: "v1", Resource: "configmaps"}: "ConfigMapList",
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objs...)
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios,
		KubeClient: func() (*kube.Client, error) { return kube.NewDynamicClient(dyn, "fake"), nil },
		Namespace:  func() (string, error) { return "noobaa", nil },
	}
	return f, out, errOut
}

func TestListStatusDeleteOnAFakeCluster(t *testing.T) {
	ready := map[string]any{"phase": "Ready", "mode": map[string]any{"modeCode": "OPTIMAL"}}
	pv1 := obj("noobaa.io/v1alpha1", "BackingStore", "pv1", map[string]any{"type": "pv-pool", "pvPool": map[string]any{"numVolumes": int64(1)}}, ready)
	class := obj("noobaa.io/v1alpha1", "BucketClass", "c1", map[string]any{"placementPolicy": map[string]any{"tiers": []any{map[string]any{"backingStores": []any{"pv1"}}}}}, ready)

	f, out, _ := fakeFactory(t, pv1, class)
	cmd := NewCmdList(f, kinds.BackingStore, nil)
	cmd.SetArgs(nil)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "pv1") || !strings.Contains(got, "pv-pool") || !strings.Contains(got, "Ready") || !strings.Contains(got, "OPTIMAL") {
		t.Errorf("list: %q", got)
	}

	f, out, _ = fakeFactory(t, pv1, class)
	st := NewCmdStatus(f, kinds.BackingStore, nil)
	st.SetArgs([]string{"pv1"})
	if err := st.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "Name:          pv1") || !strings.Contains(got, "Phase:") || !strings.Contains(got, "OPTIMAL") {
		t.Errorf("status: %q", got)
	}
	f, out, _ = fakeFactory(t, pv1, class)
	st = NewCmdStatus(f, kinds.BackingStore, nil)
	st.SetArgs([]string{"pv1", "-o", "jsonpath={.status.phase}"})
	if err := st.ExecuteContext(context.Background()); err != nil || out.String() != "Ready" {
		t.Errorf("status -o jsonpath: %q %v", out.String(), err)
	}

	f, _, _ = fakeFactory(t, pv1, class)
	del := NewCmdDelete(f, kinds.BackingStore, nil)
	del.SetArgs([]string{"pv1", "--wait=false"})
	err := del.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), `used by bucketclass "c1"`) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("delete of a store in use: %v", err)
	}

	f, out, _ = fakeFactory(t, pv1)
	del = NewCmdDelete(f, kinds.BackingStore, nil)
	del.SetArgs([]string{"pv1", "--wait=false"})
	if err := del.ExecuteContext(context.Background()); err != nil || !strings.Contains(out.String(), "backingstore.noobaa.io/pv1 deleted") {
		t.Errorf("delete: %q %v", out.String(), err)
	}
}
