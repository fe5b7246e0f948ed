package crdschema

import (
	"strings"
	"testing"
)

func mustLoad(t *testing.T) *Schemas {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCheckAcceptsValidBucketClass(t *testing.T) {
	obj := map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "bc", "namespace": "noobaa"},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "Mirror", "backingStores": []interface{}{"a", "b"}},
		}}},
	}
	if err := mustLoad(t).Check(obj); err != nil {
		t.Fatal(err)
	}
}

func TestCheckReportsPrunedField(t *testing.T) {
	// The operator's own docs spell the field "backingstores"; the API
	// server silently drops it, which is exactly what Check must catch.
	obj := map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass",
		"metadata": map[string]interface{}{"name": "bc"},
		"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
			map[string]interface{}{"placement": "Mirror", "backingstores": []interface{}{"a", "b"}},
		}}},
	}
	err := mustLoad(t).Check(obj)
	if err == nil || !strings.Contains(err.Error(), "backingstores") {
		t.Fatalf("want a pruning error naming backingstores, got %v", err)
	}
	if _, ok := obj["spec"].(map[string]interface{})["placementPolicy"].(map[string]interface{})["tiers"].([]interface{})[0].(map[string]interface{})["backingstores"]; !ok {
		t.Fatal("Check modified its argument")
	}
}

func TestCheckReportsSchemaViolations(t *testing.T) {
	s := mustLoad(t)
	cases := map[string]map[string]interface{}{
		"bad enum": {
			"apiVersion": "noobaa.io/v1alpha1", "kind": "BucketClass", "metadata": map[string]interface{}{"name": "x"},
			"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": []interface{}{
				map[string]interface{}{"placement": "mirror", "backingStores": []interface{}{"a", "b"}}}}},
		},
		"missing required": {
			"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore", "metadata": map[string]interface{}{"name": "x"},
			"spec": map[string]interface{}{"type": "s3-compatible", "s3Compatible": map[string]interface{}{"targetBucket": "b"}},
		},
		"wrong type": {
			"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore", "metadata": map[string]interface{}{"name": "x"},
			"spec": map[string]interface{}{"type": "pv-pool", "pvPool": map[string]interface{}{"numVolumes": "three"}},
		},
		"unknown kind": {"apiVersion": "noobaa.io/v1alpha1", "kind": "Nope", "metadata": map[string]interface{}{"name": "x"}},
		"claim without storage class": {
			"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim", "metadata": map[string]interface{}{"name": "x"},
			"spec": map[string]interface{}{"generateBucketName": "x"},
		},
	}
	for name, obj := range cases {
		if err := s.Check(obj); err == nil {
			t.Errorf("%s: Check accepted it", name)
		}
	}
}
