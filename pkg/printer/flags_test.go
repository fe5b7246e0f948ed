package printer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func testObject() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "noobaa.io/v1alpha1", "kind": "BackingStore",
		"metadata": map[string]interface{}{"name": "pv1", "namespace": "noobaa",
			"managedFields": []interface{}{map[string]interface{}{"manager": "nb"}}},
	}}
}

func render(t *testing.T, args []string, operation string) (string, error) {
	t.Helper()
	f := NewPrintFlags(operation)
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	f.AddFlags(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Print(&out, f, []*unstructured.Unstructured{testObject()})
	return out.String(), err
}

func TestPrintFlagsSelectKubectlPrinters(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "t.tmpl")
	if err := os.WriteFile(tmpl, []byte("{{.metadata.namespace}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args      []string
		operation string
		want      string
	}{
		{nil, "created", "backingstore.noobaa.io/pv1 created\n"},
		{[]string{"-o", "name"}, "created", "backingstore.noobaa.io/pv1\n"},
		{[]string{"-o", "jsonpath={.metadata.name}"}, "", "pv1"},
		{[]string{"-o", "jsonpath", "--template", "{.kind}"}, "", "BackingStore"},
		{[]string{"-o", "jsonpath-as-json={.metadata.name}"}, "", "[\n    \"pv1\"\n]\n"},
		{[]string{"-o", "go-template={{.metadata.name}}"}, "", "pv1"},
		{[]string{"--template", "{{.kind}}"}, "", "BackingStore"},
		{[]string{"-o", "go-template-file", "--template", tmpl}, "", "noobaa"},
	}
	for _, c := range cases {
		got, err := render(t, c.args, c.operation)
		if err != nil || got != c.want {
			t.Errorf("%v: got %q, %v; want %q", c.args, got, err, c.want)
		}
	}
	yaml, err := render(t, []string{"-o", "yaml"}, "")
	if err != nil || !strings.Contains(yaml, "name: pv1") || strings.Contains(yaml, "managedFields") {
		t.Errorf("-o yaml: %q, %v (managedFields must be omitted)", yaml, err)
	}
	withFields, err := render(t, []string{"-o", "json", "--show-managed-fields"}, "")
	if err != nil || !strings.Contains(withFields, "managedFields") {
		t.Errorf("-o json --show-managed-fields: %q, %v", withFields, err)
	}
}

func TestPrintFlagsRejectBadFormats(t *testing.T) {
	for args, want := range map[string]string{
		"-o table":          `output format "table", allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,yaml`,
		"-o jsonpath":       "needs a template",
		"-o go-template={{": "parse template",
	} {
		_, err := render(t, strings.SplitN(args, " ", 2), "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", args, err, want)
		}
	}
}
