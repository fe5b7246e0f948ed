package v1alpha1

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(o map[string]interface{}) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: o}
}

func TestClaimRules(t *testing.T) {
	for sc, want := range map[string]string{"noobaa.noobaa.io": "noobaa", "openshift-storage.noobaa.io": "openshift-storage", ".noobaa.io": "", "gp2": "", "noobaa.io": ""} {
		ns, ok := SystemNamespace(sc)
		if ok != (want != "") || (ok && ns != want) {
			t.Errorf("SystemNamespace(%q) = %q, %v; want %q", sc, ns, ok, want)
		}
	}
	if c := ClaimClass(obj(map[string]interface{}{"spec": map[string]interface{}{}})); c != DefaultBucketClass {
		t.Errorf("a claim naming no class: %q", c)
	}
	named := obj(map[string]interface{}{"spec": map[string]interface{}{"additionalConfig": map[string]interface{}{"bucketclass": "mirror"}}})
	if c := ClaimClass(named); c != "mirror" {
		t.Errorf("a claim naming mirror: %q", c)
	}
}

func TestModeAndStoresUsedBy(t *testing.T) {
	store := obj(map[string]interface{}{"status": map[string]interface{}{"mode": map[string]interface{}{"modeCode": "OPTIMAL"}}})
	class := obj(map[string]interface{}{"status": map[string]interface{}{"mode": "OPTIMAL"}})
	if Mode(store) != "OPTIMAL" || Mode(class) != "OPTIMAL" || Mode(obj(map[string]interface{}{})) != "" {
		t.Errorf("modes: %q %q", Mode(store), Mode(class))
	}
	bc := obj(map[string]interface{}{"spec": map[string]interface{}{
		"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"backingStores": []interface{}{"a", "b"}},
			map[string]interface{}{"backingStores": []interface{}{"c"}},
		}},
		"namespacePolicy": map[string]interface{}{"multi": map[string]interface{}{"writeResource": "w", "readResources": []interface{}{"r1", "r2"}}},
	}})
	backing, namespace := StoresUsedBy(bc)
	if !reflect.DeepEqual(backing, []string{"a", "b", "c"}) || !reflect.DeepEqual(namespace, []string{"w", "r1", "r2"}) {
		t.Errorf("stores used: %v %v", backing, namespace)
	}
}
