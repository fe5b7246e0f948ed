// Package resource holds the verbs every kind shares: list, status and
// delete, driven by the kind's description in pkg/kinds.
package resource

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/printer"
	"github.com/nbctl/nb/pkg/table"
)

// ListOptions are the inputs of `nb NOUN list`.
type ListOptions struct {
	IO            *iostreams.IOStreams
	KubeClient    func() (*kube.Client, error)
	Namespace     func() (string, error)
	Kind          *kinds.Kind
	AllNamespaces bool
	PrintFlags    *printer.PrintFlags
	// Now is the clock ages are computed from.
	Now func() time.Time
}

// NewCmdList returns `nb NOUN list`.
func NewCmdList(f *cmdutil.Factory, k *kinds.Kind, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, KubeClient: f.KubeClient, Namespace: f.Namespace, Kind: k,
		PrintFlags: printer.NewPrintFlags(""), Now: time.Now}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls", "get"},
		Short:   fmt.Sprintf("List %s with their phase and mode", plural(k)),
		Args:    cmdutil.ExactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVarP(&opts.AllNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	opts.PrintFlags.AddFlags(cmd)
	cmd.Flags().Lookup("output").Usage = "wide, yaml, json, name, jsonpath=..., go-template=... (default: a table)"
	return cmd
}

func outputFormat(pf *printer.PrintFlags) string {
	if pf.OutputFormat == nil {
		return ""
	}
	return *pf.OutputFormat
}

// Run lists the objects.
func (o *ListOptions) Run(ctx context.Context) error {
	format := outputFormat(o.PrintFlags)
	if format != "" && format != "wide" {
		if _, err := o.PrintFlags.ToPrinter(); err != nil {
			return exitcode.Usagef("--output", "%v", err)
		}
	}
	ns := ""
	if !o.AllNamespaces {
		var err error
		if ns, err = o.Namespace(); err != nil {
			return err
		}
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	items, err := client.List(ctx, o.Kind.GVR, ns)
	if err != nil {
		return err
	}
	if format != "" && format != "wide" {
		objs := make([]*unstructured.Unstructured, len(items))
		for i := range items {
			objs[i] = &items[i]
		}
		return printer.PrintList(o.IO.Out, o.PrintFlags, objs)
	}
	if len(items) == 0 {
		where := fmt.Sprintf("in namespace %q", ns)
		if o.AllNamespaces {
			where = "in any namespace"
		}
		fmt.Fprintf(o.IO.ErrOut, "No %ss found %s.\n", strings.ToLower(o.Kind.Kind), where)
		return nil
	}
	var header []string
	var cols []kinds.Column
	if o.AllNamespaces {
		header = append(header, "NAMESPACE")
	}
	for _, c := range o.Kind.Columns() {
		if c.Wide && format != "wide" {
			continue
		}
		header = append(header, c.Name)
		cols = append(cols, c)
	}
	t := table.New(o.IO.Out, o.IO.IsStdoutTTY(), header...)
	for i := range items {
		var row []string
		if o.AllNamespaces {
			row = append(row, items[i].GetNamespace())
		}
		for _, c := range cols {
			cell := c.Cell(&items[i])
			if c.Age {
				cell = Age(items[i].GetCreationTimestamp().Time, o.Now(), o.IO.IsStdoutTTY())
			} else if c.Name == "PHASE" {
				cell = colorPhase(o.IO, cell)
			}
			row = append(row, cell)
		}
		t.Row(row...)
	}
	return t.Render()
}

// Age is a kubectl-style age on a terminal and an RFC 3339 time otherwise.
func Age(t, now time.Time, tty bool) string {
	if t.IsZero() {
		return "<unknown>"
	}
	if !tty {
		return t.UTC().Format(time.RFC3339)
	}
	return duration.HumanDuration(now.Sub(t))
}

func colorPhase(io *iostreams.IOStreams, phase string) string {
	switch phase {
	case "Ready", "Bound":
		return io.Color(colorGreen).Sprint(phase)
	case "Rejected", "Failed":
		return io.Color(colorRed).Sprint(phase)
	case "":
		return ""
	}
	return io.Color(colorYellow).Sprint(phase)
}

// plural is a Kind's plural as its CRD names it (BucketClasses).
func plural(k *kinds.Kind) string {
	if strings.HasSuffix(k.Kind, "s") {
		return k.Kind + "es"
	}
	return k.Kind + "s"
}

// article is "a" or "an" for a Kind (an ObjectBucketClaim).
func article(k *kinds.Kind) string {
	if strings.ContainsRune("AEIOU", rune(k.Kind[0])) {
		return "an"
	}
	return "a"
}
