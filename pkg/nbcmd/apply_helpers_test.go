package nbcmd

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
)

func obcGVR() schema.GroupVersionResource { return obv1.ObjectBucketClaimGVR }
func configMapGVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
}
func unstructuredString(o map[string]any, path ...string) (string, bool, error) {
	return unstructured.NestedString(o, path...)
}
func unstructuredSlice(o map[string]any, path ...string) ([]any, bool, error) {
	return unstructured.NestedSlice(o, path...)
}
func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
