package v1alpha1

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nbctl/nb/pkg/apis/status"
)

// ClaimBound is the condition of ObjectBucketClaims. The provisioner
// never sets Failed on provisioning errors (it leaves the claim Pending and
// emits Warning events), so Failed only comes from other controllers.
func ClaimBound(obj *unstructured.Unstructured) (status.Verdict, status.Progress) {
	p := status.Progress{}
	p.Phase, _, _ = unstructured.NestedString(obj.Object, "status", "phase")
	return status.ByPhase(p, "Bound", "Failed")
}
