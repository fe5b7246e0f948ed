// Package printer prints the objects nb creates or reads: kubectl's
// printers from cli-runtime for -o json|yaml|name|jsonpath|go-template, a
// JSON List for several objects, and Secret values masked unless asked.
package printer

import (
	"fmt"
	"io"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Mask replaces each Secret value.
const Mask = "********"

// MaskSecrets returns copies of the objects in which every value of a
// Secret's data and stringData is replaced by Mask; other objects are
// returned as they are. It reports whether anything was masked.
func MaskSecrets(objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, bool) {
	out := make([]*unstructured.Unstructured, len(objs))
	masked := false
	for i, o := range objs {
		if o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" {
			out[i] = o
			continue
		}
		c := o.DeepCopy()
		for _, field := range []string{"data", "stringData"} {
			m, ok := c.Object[field].(map[string]interface{})
			if !ok {
				continue
			}
			for k := range m {
				m[k] = Mask
				masked = true
			}
		}
		out[i] = c
	}
	return out, masked
}

// Print writes objs with the printer that flags select. JSON output of
// more than one object is a v1 List, as kubectl prints it; YAML output is
// one document per object.
func Print(w io.Writer, flags *PrintFlags, objs []*unstructured.Unstructured) error {
	p, err := flags.ToPrinter()
	if err != nil {
		return fmt.Errorf("output format: %w", err)
	}
	if flags.OutputFormat != nil && isJSON(*flags.OutputFormat) && len(objs) > 1 {
		return p.PrintObj(asList(objs), w)
	}
	for _, o := range objs {
		if err := p.PrintObj(o, w); err != nil {
			return fmt.Errorf("print %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

func isJSON(format string) bool { return format == "json" }

// isTemplate reports whether format is a jsonpath or Go template one.
func isTemplate(format string) bool {
	for _, p := range []string{"jsonpath", "go-template", "template", "templatefile"} {
		if format == p || strings.HasPrefix(format, p+"=") || strings.HasPrefix(format, p+"-") {
			return true
		}
	}
	return false
}

// IsStructured reports whether the flags select a machine format (any -o
// but the default name line), whose output must not be mixed with hints.
func IsStructured(flags *PrintFlags) bool {
	return flags.OutputFormat != nil && *flags.OutputFormat != "" && *flags.OutputFormat != "name"
}

// PrintList writes objects as a v1 List for json and yaml (as kubectl
// get does), and one by one for the other formats.
func PrintList(w io.Writer, flags *PrintFlags, objs []*unstructured.Unstructured) error {
	p, err := flags.ToPrinter()
	if err != nil {
		return fmt.Errorf("output format: %w", err)
	}
	if f := *flags.OutputFormat; f == "json" || f == "yaml" || isTemplate(f) {
		// As kubectl get: a template sees the List ({.items[*]...}).
		return p.PrintObj(asList(objs), w)
	}
	for _, o := range objs {
		if err := p.PrintObj(o, w); err != nil {
			return err
		}
	}
	return nil
}

// asList wraps objects in a v1 List, as kubectl prints several objects.
func asList(objs []*unstructured.Unstructured) *unstructured.UnstructuredList {
	list := &unstructured.UnstructuredList{Object: map[string]interface{}{"apiVersion": "v1", "kind": "List", "metadata": map[string]interface{}{}}}
	for _, o := range objs {
		list.Items = append(list.Items, *o)
	}
	return list
}
