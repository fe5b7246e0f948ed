package nbcmd

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nbctl/nb/pkg/localstate"
)

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

func plantSecret(t *testing.T, dir, name string, annotations map[string]string) {
	t.Helper()
	st, err := localstate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sec := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret"}}
	sec.SetName(name)
	sec.SetNamespace("noobaa")
	sec.SetLabels(map[string]string{"app": "noobaa"})
	sec.SetAnnotations(annotations)
	if _, err := st.Create(context.Background(), secretsGVR, sec); err != nil {
		t.Fatal(err)
	}
}

// A credential Secret a failed create left behind (its rollback could not
// delete it) does not block the store's name: the next create replaces it,
// and deleting the store's name removes it. A Secret nb did not make for
// that store still stops the create.
func TestOrphanSecretOfAFailedCreate(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "backingstore", "list")
	plantSecret(t, l.dir, "backing-store-pv-pool-pv1", map[string]string{"nb.noobaa.io/secret-for": "BackingStore/pv1"})
	plantSecret(t, l.dir, "backing-store-pv-pool-pv2", map[string]string{"nb.noobaa.io/secret-for": "BackingStore/pv2"})
	plantSecret(t, l.dir, "backing-store-pv-pool-pv3", nil)

	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16")
	st, err := localstate.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := st.Get(context.Background(), secretsGVR, "noobaa", "backing-store-pv-pool-pv1")
	if err != nil || len(sec.GetOwnerReferences()) != 1 || sec.GetOwnerReferences()[0].Name != "pv1" {
		t.Errorf("the orphan was not taken over by pv1: %v %v", err, sec)
	}

	r := l.ok(t, nil, "backingstore", "delete", "pv2")
	if !strings.Contains(r.stdout, "secret/backing-store-pv-pool-pv2 deleted") {
		t.Errorf("delete pv2: %s%s", r.stdout, r.stderr)
	}
	if _, err := st.Get(context.Background(), secretsGVR, "noobaa", "backing-store-pv-pool-pv2"); err == nil {
		t.Errorf("the orphan of pv2 is still there")
	}

	r = l.run(t, nil, "backingstore", "create", "pv-pool", "pv3", "--num-volumes", "1", "--pv-size-gb", "16")
	if r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a Secret nb did not make for pv3 was replaced: exit %d\n%s", r.code, r.stderr)
	}
	if r := l.run(t, nil, "backingstore", "delete", "pv3"); r.code == 0 {
		t.Errorf("deleting a store that does not exist removed a Secret nb did not make: %s", r.stdout)
	}
}
