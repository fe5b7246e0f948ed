// Package kinds describes each kind of object nb manages: its resource,
// nb's noun for it, how its readiness is judged, its list columns (the
// CRD's printer columns plus MODE), and what it references.
package kinds

import (
	"fmt"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/jsonpath"

	"github.com/nbctl/nb/pkg/apis/crds"
	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/kube"
)

// Column is one column of `nb NOUN list`.
type Column struct {
	Name string
	// JSONPath is evaluated on the object, as kubectl does for CRD
	// printer columns; Value, when set, computes the cell instead.
	JSONPath string
	Value    func(obj *unstructured.Unstructured) string
	// Wide columns show with -o wide only.
	Wide bool
	// Age formats a timestamp as an age.
	Age bool
}

// Kind is one kind nb manages.
type Kind struct {
	GVR  schema.GroupVersionResource
	Kind string
	// Noun is nb's command noun (backingstore, obc).
	Noun      string
	Condition kube.Condition
	// Goal is the state create waits for.
	Goal string
	// OwnedBySystem makes the NooBaa system CR the controller of new objects.
	OwnedBySystem bool
	// columns are the list columns, read from the CRD on first use (not
	// at start-up: most commands never list).
	columns func() []Column
	// SecretName returns the Secret the object references, if any.
	SecretName func(obj *unstructured.Unstructured) string
}

// The kinds.
var (
	BackingStore = &Kind{GVR: nbv1.BackingStoreGVR, Kind: "BackingStore", Noun: "backingstore",
		Condition: nbv1.StoreReady, Goal: "Ready", OwnedBySystem: true, SecretName: storeSecret}
	NamespaceStore = &Kind{GVR: nbv1.NamespaceStoreGVR, Kind: "NamespaceStore", Noun: "namespacestore",
		Condition: nbv1.StoreReady, Goal: "Ready", OwnedBySystem: true, SecretName: storeSecret}
	BucketClass = &Kind{GVR: nbv1.BucketClassGVR, Kind: "BucketClass", Noun: "bucketclass",
		Condition: nbv1.BucketClassReady, Goal: "Ready", OwnedBySystem: true}
	ObjectBucketClaim = &Kind{GVR: obv1.ObjectBucketClaimGVR, Kind: "ObjectBucketClaim", Noun: "obc",
		Condition: obv1.ClaimBound, Goal: "Bound"}
)

// Columns are the kind's list columns: the CRD's printer columns with
// NAME first and AGE last, and nb's own.
func (k *Kind) Columns() []Column { return k.columns() }

func lazy(f func() []Column) func() []Column { return sync.OnceValue(f) }

func init() {
	mode := Column{Name: "MODE", Value: nbv1.Mode}
	target := Column{Name: "TARGET", Wide: true, Value: storeTarget}
	secret := Column{Name: "SECRET", Wide: true, Value: storeSecret}
	BackingStore.columns = lazy(func() []Column { return crdColumns(BackingStore.GVR, mode, target, secret) })
	NamespaceStore.columns = lazy(func() []Column {
		return crdColumns(NamespaceStore.GVR, mode, target, secret, Column{Name: "ACCESS-MODE", Wide: true, JSONPath: ".spec.accessMode"})
	})
	BucketClass.columns = lazy(func() []Column { return crdColumns(BucketClass.GVR, mode) })
	ObjectBucketClaim.columns = lazy(func() []Column { return claimColumns() })
}

func claimColumns() []Column {
	return crdColumns(ObjectBucketClaim.GVR,
		Column{Name: "BUCKET-CLASS", Wide: true, JSONPath: ".spec.additionalConfig.bucketclass"},
		Column{Name: "BUCKET-NAME", Wide: true, Value: func(o *unstructured.Unstructured) string {
			if n, _, _ := unstructured.NestedString(o.Object, "spec", "bucketName"); n != "" {
				return n
			}
			n, _, _ := unstructured.NestedString(o.Object, "spec", "generateBucketName")
			return n + "-*"
		}},
	)
}

// All lists the kinds, in the order `nb` shows them.
func All() []*Kind { return []*Kind{BackingStore, NamespaceStore, BucketClass, ObjectBucketClaim} }

// crdColumns reads the printer columns of the embedded CRD serving gvr,
// with NAME first as kubectl prints it, then extra, and AGE last.
func crdColumns(gvr schema.GroupVersionResource, extra ...Column) []Column {
	list, err := crds.All()
	if err != nil {
		panic(fmt.Sprintf("embedded CRDs do not parse: %v", err)) // caught by every test run
	}
	cols := []Column{{Name: "NAME", JSONPath: ".metadata.name"}}
	var age *Column
	for _, crd := range list {
		if crd.Spec.Group != gvr.Group || crd.Spec.Names.Plural != gvr.Resource {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Name != gvr.Version {
				continue
			}
			for _, pc := range v.AdditionalPrinterColumns {
				c := Column{Name: strings.ToUpper(pc.Name), JSONPath: pc.JSONPath}
				if pc.Name == "Age" {
					c.Age = true
					age = &c
					continue
				}
				cols = append(cols, c)
			}
		}
	}
	cols = append(cols, extra...)
	if age != nil {
		cols = append(cols, *age)
	}
	return cols
}

// Cell evaluates a column on an object (Age columns give the timestamp).
func (c Column) Cell(obj *unstructured.Unstructured) string {
	if c.Value != nil {
		return c.Value(obj)
	}
	jp := jsonpath.New(c.Name).AllowMissingKeys(true)
	if err := jp.Parse("{" + c.JSONPath + "}"); err != nil {
		return ""
	}
	var b strings.Builder
	if err := jp.Execute(&b, obj.Object); err != nil {
		return ""
	}
	return b.String()
}

func storeSecret(o *unstructured.Unstructured) string {
	for _, sub := range []string{"awsS3", "s3Compatible", "ibmCos", "azureBlob", "googleCloudStorage", "pvPool"} {
		if n, _, _ := unstructured.NestedString(o.Object, "spec", sub, "secret", "name"); n != "" {
			return n
		}
	}
	return ""
}

func storeTarget(o *unstructured.Unstructured) string {
	for _, p := range [][]string{
		{"spec", "awsS3", "targetBucket"}, {"spec", "s3Compatible", "targetBucket"}, {"spec", "ibmCos", "targetBucket"},
		{"spec", "azureBlob", "targetBlobContainer"}, {"spec", "googleCloudStorage", "targetBucket"}, {"spec", "nsfs", "pvcName"},
	} {
		if v, _, _ := unstructured.NestedString(o.Object, p...); v != "" {
			return v
		}
	}
	if n, ok, _ := unstructured.NestedInt64(o.Object, "spec", "pvPool", "numVolumes"); ok {
		return fmt.Sprintf("%d volumes", n)
	}
	return ""
}
