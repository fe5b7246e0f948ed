package reconciler

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// SecretData decodes a Secret's data (and any stringData left in it).
func SecretData(s *unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	data, _, _ := unstructured.NestedStringMap(s.Object, "data")
	for k, v := range data {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			out[k] = string(b)
		}
	}
	sd, _, _ := unstructured.NestedStringMap(s.Object, "stringData")
	for k, v := range sd {
		out[k] = v
	}
	return out
}
