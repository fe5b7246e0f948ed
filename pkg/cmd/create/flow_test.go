package create

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
)

// OnCluster creates the Secret, then the object, and prints what it made
// with the Secret's values masked; a client dry run lists the same pair.
func TestOnClusterCreatesTheSecretThenTheObject(t *testing.T) {
	secret := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "backing-store-aws-s3-aws1", Namespace: "noobaa"},
		StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "verysecret"}}
	store := &nbv1.BackingStore{TypeMeta: metav1.TypeMeta{APIVersion: "noobaa.io/v1alpha1", Kind: "BackingStore"},
		ObjectMeta: metav1.ObjectMeta{Name: "aws1", Namespace: "noobaa"},
		Spec:       nbv1.BackingStoreSpec{Type: nbv1.StoreTypeAWSS3}}
	objs := Objects{Secret: secret, Object: store}
	if l := objs.List(); len(l) != 2 || l[0] != runtime.Object(secret) || l[1] != runtime.Object(store) {
		t.Errorf("List() = %v: want the Secret, then the store", l)
	}
	if l := (Objects{Object: store}).List(); len(l) != 1 {
		t.Errorf("List() without a Secret = %v", l)
	}

	lists := map[schema.GroupVersionResource]string{nbv1.BackingStoreGVR: "BackingStoreList", {Version: "v1", Resource: "secrets"}: "SecretList", nbv1.NooBaaGVR: "NooBaaList"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists)
	ios, _, out, errOut := iostreams.Test()
	f := NewFlags()
	f.Wait.Wait = false
	got, err := f.OnCluster(context.Background(), ios, func() (*kube.Client, error) { return kube.NewDynamicClient(dyn, "fake"), nil }, objs, kinds.BackingStore)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "aws1" {
		t.Errorf("returned %s", got.GetName())
	}
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).Namespace("noobaa").Get(context.Background(), secret.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the Secret was not created: %v", err)
	}
	if want := "secret/backing-store-aws-s3-aws1 created\nbackingstore.noobaa.io/aws1 created\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
	if strings.Contains(out.String()+errOut.String(), "verysecret") {
		t.Error("a secret value was printed")
	}
}
