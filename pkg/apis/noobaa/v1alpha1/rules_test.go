package v1alpha1

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nbctl/nb/pkg/apis/status"
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

func TestReadinessRules(t *testing.T) {
	st := func(phase, mode string, conds ...interface{}) *unstructured.Unstructured {
		s := map[string]interface{}{"phase": phase, "conditions": conds}
		if mode != "" {
			s["mode"] = map[string]interface{}{"modeCode": mode}
		}
		return obj(map[string]interface{}{"status": s})
	}
	cond := func(typ, status, reason, msg string) interface{} {
		return map[string]interface{}{"type": typ, "status": status, "reason": reason, "message": msg}
	}
	for _, c := range []struct {
		name   string
		obj    *unstructured.Unstructured
		want   status.Verdict
		reason string
	}{
		{"no status", obj(map[string]interface{}{}), status.Waiting, ""},
		{"creating", st("Creating", "INITIALIZING"), status.Waiting, ""},
		{"ready but initializing", st("Ready", "INITIALIZING"), status.Waiting, ""},
		{"ready", st("Ready", "OPTIMAL", cond("Available", "True", "BackingStorePhaseReady", "ok")), status.Done, "BackingStorePhaseReady"},
		{"rejected, explained on Degraded", st("Rejected", "", cond("Available", "False", "Other", ""), cond("Degraded", "True", "InvalidCredentials", "bad key")), status.Rejected, "InvalidCredentials"},
		{"Degraded False says nothing", st("Connecting", "", cond("Degraded", "False", "Ignored", "x"), cond("Progressing", "True", "Connecting", "")), status.Waiting, "Connecting"},
	} {
		v, p := StoreReady(c.obj)
		if v != c.want || p.Reason != c.reason {
			t.Errorf("StoreReady(%s) = %v %+v; want %v reason %q", c.name, v, p, c.want, c.reason)
		}
	}
	class := func(phase string) *unstructured.Unstructured {
		return obj(map[string]interface{}{"status": map[string]interface{}{"phase": phase, "mode": "OPTIMAL"}})
	}
	for phase, want := range map[string]status.Verdict{"": status.Waiting, "Verifying": status.Waiting, "Ready": status.Done, "Rejected": status.Rejected} {
		v, p := BucketClassReady(class(phase))
		if v != want || p.Mode != "OPTIMAL" {
			t.Errorf("BucketClassReady(%q) = %v %+v; want %v", phase, v, p, want)
		}
	}
	if got := (status.Progress{Phase: "Rejected", Mode: "IO_ERRORS", Reason: "R", Message: "m"}).String(); got != "Rejected [IO_ERRORS]: R m" {
		t.Errorf("Progress.String() = %q", got)
	}
	if got := (status.Progress{}).String(); got != "(no phase yet)" {
		t.Errorf("empty Progress.String() = %q", got)
	}
}
