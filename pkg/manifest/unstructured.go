package manifest

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// ToUnstructured converts a typed object to its unstructured form, without
// the noise typed structs leave behind (a null creationTimestamp, an empty
// status), so that generated manifests are what a person would write.
func ToUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s to unstructured: %w", obj.GetObjectKind().GroupVersionKind().Kind, err)
	}
	if md, ok := content["metadata"].(map[string]interface{}); ok {
		if md["creationTimestamp"] == nil {
			delete(md, "creationTimestamp")
		}
	}
	if st, ok := content["status"].(map[string]interface{}); ok && isEmpty(st) {
		delete(content, "status")
	}
	return &unstructured.Unstructured{Object: content}, nil
}

// isEmpty reports whether a map holds only empty maps, recursively.
func isEmpty(m map[string]interface{}) bool {
	for _, v := range m {
		sub, ok := v.(map[string]interface{})
		if !ok || !isEmpty(sub) {
			return false
		}
	}
	return true
}

// ToUnstructuredList converts objects in order.
func ToUnstructuredList(objs []runtime.Object) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		u, err := ToUnstructured(o)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
