package printer

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/printers"
)

// PrintFlags are kubectl's -o/--output, --template,
// --allow-missing-template-keys and --show-managed-fields, selecting one of
// cli-runtime's printers with the same names and rules as kubectl. They
// mirror cli-runtime's genericclioptions.PrintFlags, which nb does not import
// because that package links every built-in Kubernetes API group (see
// cmdutil.ConfigFlags).
type PrintFlags struct {
	OutputFormat      *string
	Template          string
	AllowMissingKeys  bool
	ShowManagedFields bool
	// Operation is what the default (name) output says was done, e.g.
	// "created".
	Operation string

	outputChanged func() bool
}

// NewPrintFlags returns flags whose default output is a name line saying
// operation.
func NewPrintFlags(operation string) *PrintFlags {
	format := ""
	return &PrintFlags{OutputFormat: &format, AllowMissingKeys: true, Operation: operation}
}

var (
	templateFormats = []string{"go-template", "go-template-file", "template", "templatefile"}
	jsonPathFormats = []string{"jsonpath", "jsonpath-as-json", "jsonpath-file"}
)

// AllowedFormats lists the values -o accepts.
func (f *PrintFlags) AllowedFormats() []string {
	out := []string{"json", "yaml", "name"}
	out = append(out, templateFormats...)
	return append(out, jsonPathFormats...)
}

// Complete fills the operation into successTemplate (kubectl's
// "%s (server dry run)").
func (f *PrintFlags) Complete(successTemplate string) error {
	f.Operation = fmt.Sprintf(successTemplate, f.Operation)
	return nil
}

// AddFlags registers the flags on cmd.
func (f *PrintFlags) AddFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.StringVarP(f.OutputFormat, "output", "o", *f.OutputFormat, fmt.Sprintf("Output format. One of: (%s).", strings.Join(f.AllowedFormats(), ", ")))
	flags.StringVar(&f.Template, "template", f.Template, "Template string or path to template file to use when -o=go-template, -o=go-template-file, -o=jsonpath or -o=jsonpath-file. The template format is golang templates [http://golang.org/pkg/text/template/#pkg-overview] or a JSONPath expression.")
	_ = cmd.MarkFlagFilename("template")
	flags.BoolVar(&f.AllowMissingKeys, "allow-missing-template-keys", f.AllowMissingKeys, "If true, ignore any errors in templates when a field or map key is missing in the template. Only applies to golang and jsonpath output formats.")
	flags.BoolVar(&f.ShowManagedFields, "show-managed-fields", f.ShowManagedFields, "If true, keep the managedFields when printing objects in JSON or YAML format.")
	f.outputChanged = func() bool { return cmd.Flags().Changed("output") }
}

// ToPrinter returns the printer the flags select, or an error naming the
// allowed formats.
func (f *PrintFlags) ToPrinter() (printers.ResourcePrinter, error) {
	format := ""
	if f.OutputFormat != nil {
		format = *f.OutputFormat
	}
	if f.Template != "" && (f.outputChanged == nil || !f.outputChanged()) && format == "" {
		format = "go-template"
	}
	switch strings.ToLower(format) {
	case "json":
		return f.managedFields(&printers.JSONPrinter{}), nil
	case "yaml":
		return f.managedFields(&printers.YAMLPrinter{}), nil
	case "name":
		return &printers.NamePrinter{Operation: f.Operation, ShortOutput: true}, nil
	case "":
		return &printers.NamePrinter{Operation: f.Operation}, nil
	}
	name, value := format, f.Template
	if i := strings.IndexByte(format, '='); i >= 0 && f.Template == "" {
		name, value = format[:i], format[i+1:]
	}
	isTemplate, isJSONPath := slices.Contains(templateFormats, name), slices.Contains(jsonPathFormats, name)
	if !isTemplate && !isJSONPath {
		allowed := f.AllowedFormats()
		sort.Strings(allowed)
		return nil, fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: %s", format, strings.Join(allowed, ","))
	}
	if value == "" {
		return nil, fmt.Errorf("output format %s needs a template: add --template or write -o %s=TEMPLATE", name, name)
	}
	if strings.HasSuffix(name, "file") {
		data, err := os.ReadFile(value)
		if err != nil {
			return nil, fmt.Errorf("read --template %s: %w", value, err)
		}
		value = string(data)
	}
	if isTemplate {
		p, err := printers.NewGoTemplatePrinter([]byte(value))
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", value, err)
		}
		p.AllowMissingKeys(f.AllowMissingKeys)
		return p, nil
	}
	p, err := printers.NewJSONPathPrinter(value)
	if err != nil {
		return nil, fmt.Errorf("parse jsonpath %s: %w", value, err)
	}
	p.AllowMissingKeys(f.AllowMissingKeys)
	p.EnableJSONOutput(name == "jsonpath-as-json")
	return p, nil
}

func (f *PrintFlags) managedFields(p printers.ResourcePrinter) printers.ResourcePrinter {
	if f.ShowManagedFields {
		return p
	}
	return &printers.OmitManagedFieldsPrinter{Delegate: p}
}
