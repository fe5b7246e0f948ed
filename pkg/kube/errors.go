package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/nbctl/nb/pkg/exitcode"
)

// CRD names nb depends on, by resource, for "not installed" messages.
var crdNames = map[schema.GroupResource]string{
	{Group: "noobaa.io", Resource: "backingstores"}:            "backingstores.noobaa.io",
	{Group: "noobaa.io", Resource: "namespacestores"}:          "namespacestores.noobaa.io",
	{Group: "noobaa.io", Resource: "bucketclasses"}:            "bucketclasses.noobaa.io",
	{Group: "noobaa.io", Resource: "noobaas"}:                  "noobaas.noobaa.io",
	{Group: "objectbucket.io", Resource: "objectbucketclaims"}: "objectbucketclaims.objectbucket.io",
	{Group: "objectbucket.io", Resource: "objectbuckets"}:      "objectbuckets.objectbucket.io",
}

// Action describes what nb was doing when an API call failed, so that the
// translated error can name it.
type Action struct {
	Verb      string // create, get, list, watch, delete, patch
	Resource  schema.GroupResource
	Name      string
	Namespace string
}

func (a Action) object() string {
	r := a.Resource.Resource
	if a.Resource.Group != "" {
		r += "." + a.Resource.Group
	}
	if a.Name == "" {
		return r
	}
	return fmt.Sprintf("%s %q", r, a.Name)
}

// ErrNotInstalled marks an error caused by a missing CRD.
var ErrNotInstalled = errors.New("CRD not installed")

// Translate turns an error of a client-go call into one that says what
// happened in the user's terms and what to do; nil stays nil. It is the
// only place that inspects API errors.
func (c *Client) Translate(err error, a Action) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	hasStatus := errors.As(err, &status)
	switch {
	case meta.IsNoMatchError(err) || (hasStatus && isMissingResource(status.Status(), a)):
		crd := crdNames[a.Resource]
		if crd == "" {
			crd = a.Resource.String()
		}
		return fmt.Errorf("%w: %s: the CRD %s is not installed in the cluster at %s: install the NooBaa operator (or apply its CRDs) first", ErrNotInstalled, a.Verb+" "+a.object(), crd, c.Host)
	case apierrors.IsNotFound(err) && hasStatus && status.Status().Details != nil && status.Status().Details.Kind == "namespaces":
		return exitcode.Usagef("--namespace", "namespace %q does not exist: create it (kubectl create namespace %s) or pass -n", a.Namespace, a.Namespace)
	case apierrors.IsForbidden(err):
		who := ""
		if msg := status.Status().Message; strings.Contains(msg, "User \"") {
			who = " as user " + strings.SplitN(strings.SplitN(msg, "User \"", 2)[1], "\"", 2)[0]
		}
		where := ""
		if a.Namespace != "" {
			where = fmt.Sprintf(" in namespace %q", a.Namespace)
		}
		return fmt.Errorf("not allowed to %s %s%s%s (RBAC forbids it): ask a cluster administrator for the %q permission on %s, or use --context with other credentials",
			a.Verb, a.Resource.String(), where, who, a.Verb, a.Resource.String())
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s %s: the API server at %s did not accept your credentials: log in again or check --kubeconfig and --context", a.Verb, a.object(), c.Host)
	case apierrors.IsInvalid(err):
		var causes []string
		if d := status.Status().Details; d != nil {
			for _, cause := range d.Causes {
				causes = append(causes, fmt.Sprintf("%s: %s", cause.Field, cause.Message))
			}
		}
		if len(causes) == 0 {
			causes = append(causes, status.Status().Message)
		}
		return &exitcode.RejectedError{Err: fmt.Errorf("the API server rejected %s: %s", a.object(), strings.Join(causes, "; "))}
	case apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || isTimeout(err):
		return &exitcode.TimeoutError{Err: fmt.Errorf("%s %s: the API server at %s did not answer within --request-timeout (%s)", a.Verb, a.object(), c.Host, c.RequestTimeout)}
	case isUnreachable(err):
		return fmt.Errorf("%s %s: cannot reach the Kubernetes API server at %s: %s: check --kubeconfig and --context", a.Verb, a.object(), c.Host, rootCause(err))
	}
	if hasStatus {
		return fmt.Errorf("%s %s: %s", a.Verb, a.object(), status.Status().Message)
	}
	return fmt.Errorf("%s %s: %w", a.Verb, a.object(), err)
}

// isMissingResource tells a 404 for the resource type (its CRD is not
// installed) from a 404 for a named object.
func isMissingResource(s metav1.Status, a Action) bool {
	if s.Reason != metav1.StatusReasonNotFound {
		return false
	}
	if s.Details == nil {
		return true
	}
	if s.Details.Kind == "namespaces" {
		return false
	}
	// Get/Delete of an object that does not exist names it; a missing
	// resource names nothing, or (on create) names the resource itself.
	return s.Details.Name == "" || (a.Verb == "create" && s.Message == "the server could not find the requested resource")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isUnreachable(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &oe) || errors.As(err, &de) || errors.Is(err, syscall.ECONNREFUSED)
}

func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// IsNotFound reports whether err (translated or not) says the object does
// not exist.
func IsNotFound(err error) bool { return apierrors.IsNotFound(err) }
