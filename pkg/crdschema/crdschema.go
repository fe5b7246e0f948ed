// Package crdschema checks objects against the openAPIV3Schema of nb's CRDs
// with the API server's own validation and pruning code, so that what nb
// generates is known to be accepted unchanged by a real cluster.
package crdschema

import (
	"fmt"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nbctl/nb/pkg/apis/crds"
)

// Schemas holds the validators of every served version of a set of CRDs.
type Schemas struct {
	byGVK map[schema.GroupVersionKind]*versionSchema
}

type versionSchema struct {
	structural *structuralschema.Structural
	validator  validation.SchemaValidator
	namespaced bool
	crd        *apiextensionsv1.CustomResourceDefinition
	version    string
}

// Load builds the schemas of nb's embedded CRDs.
func Load() (*Schemas, error) {
	all, err := crds.All()
	if err != nil {
		return nil, err
	}
	return New(all)
}

// New builds the schemas of the given CRDs.
func New(list []*apiextensionsv1.CustomResourceDefinition) (*Schemas, error) {
	s := &Schemas{byGVK: map[schema.GroupVersionKind]*versionSchema{}}
	for _, crd := range list {
		for _, v := range crd.Spec.Versions {
			if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
				return nil, fmt.Errorf("CRD %s version %s has no openAPIV3Schema", crd.Name, v.Name)
			}
			internal := &apiextensions.JSONSchemaProps{}
			if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
				return nil, fmt.Errorf("convert schema of %s/%s: %w", crd.Name, v.Name, err)
			}
			structural, err := structuralschema.NewStructural(internal)
			if err != nil {
				return nil, fmt.Errorf("structural schema of %s/%s: %w", crd.Name, v.Name, err)
			}
			validator, _, err := validation.NewSchemaValidator(internal)
			if err != nil {
				return nil, fmt.Errorf("validator of %s/%s: %w", crd.Name, v.Name, err)
			}
			gvk := schema.GroupVersionKind{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
			s.byGVK[gvk] = &versionSchema{
				structural: structural,
				validator:  validator,
				namespaced: crd.Spec.Scope == apiextensionsv1.NamespaceScoped,
				crd:        crd,
				version:    v.Name,
			}
		}
	}
	return s, nil
}

// Has reports whether a schema for gvk is known.
func (s *Schemas) Has(gvk schema.GroupVersionKind) bool { return s.byGVK[gvk] != nil }

// CRD returns the definition serving gvk, or nil.
func (s *Schemas) CRD(gvk schema.GroupVersionKind) *apiextensionsv1.CustomResourceDefinition {
	if v := s.byGVK[gvk]; v != nil {
		return v.crd
	}
	return nil
}

// Validate checks obj (an unstructured object's content) against the schema
// of its kind, as the API server does on create.
func (s *Schemas) Validate(obj map[string]interface{}) field.ErrorList {
	gvk, vs, err := s.lookup(obj)
	if err != nil {
		return field.ErrorList{field.Invalid(field.NewPath("kind"), gvk.Kind, err.Error())}
	}
	return validation.ValidateCustomResource(nil, obj, vs.validator)
}

// Prune removes, as the API server would, every field the schema does not
// declare, and returns their paths. A non-empty result for a generated
// object means the cluster would silently drop part of it.
func (s *Schemas) Prune(obj map[string]interface{}) ([]string, error) {
	_, vs, err := s.lookup(obj)
	if err != nil {
		return nil, err
	}
	return pruning.PruneWithOptions(obj, vs.structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true}), nil
}

// Check returns an error naming every schema violation and every field that
// would be pruned from a copy of obj; obj itself is left as it is.
func (s *Schemas) Check(obj map[string]interface{}) error {
	copied := runtime.DeepCopyJSON(obj)
	var problems []string
	for _, e := range s.Validate(copied) {
		problems = append(problems, e.Error())
	}
	pruned, err := s.Prune(copied)
	if err != nil {
		return err
	}
	for _, p := range pruned {
		problems = append(problems, fmt.Sprintf("%s: field not declared by the schema (the API server would drop it)", p))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

func (s *Schemas) lookup(obj map[string]interface{}) (schema.GroupVersionKind, *versionSchema, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupVersionKind{Kind: kind}, nil, fmt.Errorf("bad apiVersion %q: %w", apiVersion, err)
	}
	gvk := gv.WithKind(kind)
	vs := s.byGVK[gvk]
	if vs == nil {
		return gvk, nil, fmt.Errorf("no CRD serves %s", gvk)
	}
	return gvk, vs, nil
}
