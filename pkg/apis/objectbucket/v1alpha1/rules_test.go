package v1alpha1

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nbctl/nb/pkg/apis/status"
)

func TestClaimBound(t *testing.T) {
	for phase, want := range map[string]status.Verdict{"": status.Waiting, "Pending": status.Waiting, "Bound": status.Done, "Failed": status.Rejected} {
		claim := &unstructured.Unstructured{Object: map[string]interface{}{"status": map[string]interface{}{"phase": phase}}}
		if v, p := ClaimBound(claim); v != want || p.Phase != phase {
			t.Errorf("ClaimBound(%q) = %v %+v; want %v", phase, v, p, want)
		}
	}
}
