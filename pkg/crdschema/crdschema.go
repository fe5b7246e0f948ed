// Package crdschema checks objects against the openAPIV3Schema of nb's CRDs
// with the code the API server uses: kube-openapi's schema validator (what
// apiextensions-apiserver's validation package wraps) and the API server's
// structural pruning, so that what nb generates is known to be accepted
// unchanged by a real cluster.
//
// The validator is built on kube-openapi directly rather than through
// apiextensions-apiserver/pkg/apiserver/validation: that wrapper adds only
// ratcheting (an update-time feature nb does not use) and format stripping,
// but links CEL, the feature-gate registry and Prometheus into nb, about a
// sixth of the binary and of its resident memory.
package crdschema

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"

	"github.com/nbctl/nb/pkg/apis/crds"
)

// Schemas holds the validators of every served version of a set of CRDs.
type Schemas struct {
	byGVK map[schema.GroupVersionKind]*versionSchema
}

type versionSchema struct {
	structural *structuralschema.Structural
	validator  *validate.SchemaValidator
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
			openapi, err := toOpenAPI(v.Schema.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("validator of %s/%s: %w", crd.Name, v.Name, err)
			}
			validator := validate.NewSchemaValidator(openapi, nil, "", strfmt.Default)
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
	return toFieldErrors(vs.validator.Validate(obj))
}

// toOpenAPI converts a CRD schema to kube-openapi's form. The two share their
// JSON shape; the one Kubernetes extension the validator must see as a type
// is x-kubernetes-int-or-string, which the API server turns into
// "integer or string" the same way.
func toOpenAPI(in *apiextensionsv1.JSONSchemaProps) (*spec.Schema, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	out := &spec.Schema{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, err
	}
	walkSchema(out, func(s *spec.Schema) {
		if v, ok := s.Extensions.GetBool("x-kubernetes-int-or-string"); ok && v {
			s.Type = spec.StringOrArray{"integer", "string"}
		}
	})
	return out, nil
}

func walkSchema(s *spec.Schema, fn func(*spec.Schema)) {
	if s == nil {
		return
	}
	fn(s)
	for k, p := range s.Properties {
		walkSchema(&p, fn)
		s.Properties[k] = p
	}
	if s.AdditionalProperties != nil {
		walkSchema(s.AdditionalProperties.Schema, fn)
	}
	if s.Items != nil {
		walkSchema(s.Items.Schema, fn)
		for i := range s.Items.Schemas {
			walkSchema(&s.Items.Schemas[i], fn)
		}
	}
	for _, list := range [][]spec.Schema{s.AllOf, s.AnyOf, s.OneOf} {
		for i := range list {
			walkSchema(&list[i], fn)
		}
	}
	walkSchema(s.Not, fn)
}

// toFieldErrors turns the validator's result into field errors the way the
// API server reports them (apiextensions-apiserver's
// kubeOpenAPIResultToFieldErrors, for the codes nb's schemas can produce).
func toFieldErrors(result *validate.Result) field.ErrorList {
	if result.IsValid() {
		return nil
	}
	var all field.ErrorList
	for _, err := range result.Errors {
		verr, ok := err.(*openapierrors.Validation)
		if !ok {
			all = append(all, field.Invalid(nil, "", err.Error()))
			continue
		}
		var path *field.Path
		if verr.Name != "" && verr.Name != "." {
			path = field.NewPath(strings.TrimPrefix(verr.Name, "."))
		}
		value := verr.Value
		if value == nil {
			value = ""
		}
		switch verr.Code() {
		case openapierrors.RequiredFailCode:
			all = append(all, field.Required(path, ""))
		case openapierrors.EnumFailCode:
			var values []string
			for _, allowed := range verr.Values {
				if s, ok := allowed.(string); ok {
					values = append(values, s)
				} else {
					j, _ := json.Marshal(allowed)
					values = append(values, string(j))
				}
			}
			all = append(all, field.NotSupported(path, verr.Value, values))
		case openapierrors.InvalidTypeCode:
			all = append(all, field.TypeInvalid(path, value, verr.Error()))
		default:
			all = append(all, field.Invalid(path, value, verr.Error()))
		}
	}
	return all
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
