package verify

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/kube"
)

func object(apiVersion, kind, ns, name string, spec, status map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec}}
	if status != nil {
		o.Object["status"] = status
	}
	return o
}

// resolve is verify's one way to the claim, class and policy on both
// targets: checked here against client-go's fake dynamic client.
func TestResolveClaimAndClass(t *testing.T) {
	mirror := map[string]any{"placementPolicy": map[string]any{"tiers": []any{
		map[string]any{"placement": "Mirror", "backingStores": []any{"pv1", "pv2"}}}}}
	objs := []runtime.Object{
		object("noobaa.io/v1alpha1", "BucketClass", "noobaa", "mirror", mirror, map[string]any{"phase": "Ready"}),
		object("noobaa.io/v1alpha1", "BucketClass", "noobaa", "verifying", mirror, map[string]any{"phase": "Verifying"}),
		object("noobaa.io/v1alpha1", "BucketClass", "noobaa", "ns-only", map[string]any{"namespacePolicy": map[string]any{"type": "Single"}}, map[string]any{"phase": "Ready"}),
		object("objectbucket.io/v1alpha1", "ObjectBucketClaim", "apps", "c1", map[string]any{"storageClassName": "noobaa.noobaa.io",
			"bucketName": "c1-abc", "additionalConfig": map[string]any{"bucketclass": "verifying"}}, map[string]any{"phase": "Bound"}),
		object("objectbucket.io/v1alpha1", "ObjectBucketClaim", "apps", "pending", map[string]any{"storageClassName": "noobaa.noobaa.io"}, map[string]any{"phase": "Pending"}),
	}
	lists := map[schema.GroupVersionResource]string{nbv1.BucketClassGVR: "BucketClassList", obv1.ObjectBucketClaimGVR: "ObjectBucketClaimList"}
	c := kube.NewDynamicClient(dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, objs...), "fake")
	ctx := context.Background()

	// A Bound claim: NooBaa's namespace from its storage class, its class
	// (which need not be Ready: the bucket exists), its bucket.
	s, err := resolve(ctx, c, Input{Claim: "c1", ClaimNamespace: "apps"})
	if err != nil {
		t.Fatal(err)
	}
	if s.namespace != "noobaa" || s.className != "verifying" || s.bucket != "c1-abc" || s.policy.String() != "Mirror over pv1,pv2" {
		t.Errorf("claim c1 resolved to ns %q class %q bucket %q policy %s", s.namespace, s.className, s.bucket, s.policy)
	}
	// A class without a claim must be Ready.
	if s, err := resolve(ctx, c, Input{BucketClass: "mirror", Namespace: "noobaa"}); err != nil || s.claim != nil || s.policy.String() != "Mirror over pv1,pv2" {
		t.Errorf("class mirror: %+v, %v", s, err)
	}
	for _, bad := range []struct {
		in   Input
		want string
	}{
		{Input{Claim: "nope", ClaimNamespace: "apps"}, `obc "nope" not found in namespace "apps": list them with "nb obc list -n apps"`},
		{Input{Claim: "pending", ClaimNamespace: "apps"}, `obc "pending" is Pending, not Bound`},
		{Input{BucketClass: "verifying", Namespace: "noobaa"}, `bucketclass "verifying" is Verifying, not Ready`},
		{Input{BucketClass: "nope", Namespace: "noobaa"}, `bucketclass "nope" not found in namespace "noobaa"`},
		{Input{BucketClass: "ns-only", Namespace: "noobaa"}, "has no placement policy"},
	} {
		if _, err := resolve(ctx, c, bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("resolve(%+v) = %v; want an error with %q", bad.in, err, bad.want)
		}
	}
}
