// Package crds embeds the CustomResourceDefinitions nb works with, copied
// verbatim from the NooBaa operator (see SOURCE.md), so that tests can
// install them in a real API server and the local target can validate and
// print objects exactly as a cluster would.
package crds

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed *.yaml
var files embed.FS

// Files returns the embedded CRD manifests, by file name.
func Files() fs.FS { return files }

// All returns every embedded CRD. They are parsed once per process (the
// YAML costs milliseconds) and each caller gets copies of its own.
func All() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	list, err := parsed()
	if err != nil {
		return nil, err
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, len(list))
	for i, c := range list {
		out[i] = c.DeepCopy()
	}
	return out, nil
}

var parsed = sync.OnceValues(parseAll)

func parseAll() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("read embedded CRDs: %w", err)
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		raw, err := fs.ReadFile(files, path.Join(".", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read CRD %s: %w", e.Name(), err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(raw, crd); err != nil {
			return nil, fmt.Errorf("parse CRD %s: %w", e.Name(), err)
		}
		out = append(out, crd)
	}
	return out, nil
}
