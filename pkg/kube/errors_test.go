package kube

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nbctl/nb/pkg/exitcode"
)

// What the API server's errors become: a message that says what to do,
// and the exit code the kind of failure selects. Cheap: no API server.
func TestTranslate(t *testing.T) {
	c := &Client{Host: "https://api.example:6443", RequestTimeout: 30 * time.Second}
	bs := schema.GroupResource{Group: "noobaa.io", Resource: "backingstores"}
	act := Action{Verb: "create", Resource: bs, Name: "aws1", Namespace: "noobaa"}
	notFoundNS := apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, "noobaa")
	missingCRD := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: 404, Reason: metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource", Details: &metav1.StatusDetails{Name: ""}}}
	for _, c2 := range []struct {
		name string
		err  error
		want []string
		code int
	}{
		{"forbidden", apierrors.NewForbidden(bs, "aws1", errors.New(`User "alice" cannot create resource`)), []string{"not allowed to create", "as user alice", `in namespace "noobaa"`, "cluster administrator"}, exitcode.Failed},
		{"unauthorized", apierrors.NewUnauthorized("bad token"), []string{"did not accept your credentials", "https://api.example:6443"}, exitcode.Failed},
		{"server timeout", apierrors.NewTimeoutError("slow", 5), []string{"did not answer within --request-timeout (30s)"}, exitcode.Timeout},
		{"missing namespace", notFoundNS, []string{`namespace "noobaa" does not exist`, "kubectl create namespace"}, exitcode.Usage},
		{"missing CRD", missingCRD, []string{"CRD backingstores.noobaa.io is not installed", "install the NooBaa operator"}, exitcode.Failed},
		{"no kind match", &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "noobaa.io", Kind: "BackingStore"}}, []string{"is not installed"}, exitcode.Failed},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "noobaa.io", Kind: "BackingStore"}, "aws1", field.ErrorList{field.Required(field.NewPath("spec", "type"), "")}),
			[]string{"rejected", "spec.type"}, exitcode.Rejected},
		{"unreachable", &url.Error{Op: "Post", URL: "https://api.example:6443", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}},
			[]string{"cannot reach the Kubernetes API server", "--kubeconfig"}, exitcode.Failed},
	} {
		t.Run(c2.name, func(t *testing.T) {
			got := c.Translate(c2.err, act)
			for _, w := range c2.want {
				if !strings.Contains(got.Error(), w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			if code := exitcode.Of(got); code != c2.code {
				t.Errorf("exit code %d, want %d (%v)", code, c2.code, got)
			}
		})
	}
	if c.Translate(nil, act) != nil {
		t.Error("nil must stay nil")
	}
	if errors.Is(c.Translate(missingCRD, act), ErrNotInstalled) == false {
		t.Error("a missing CRD must be ErrNotInstalled")
	}
}
