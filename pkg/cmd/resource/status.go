package resource

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/printer"
	"github.com/nbctl/nb/pkg/table"
)

const (
	colorGreen  = color.FgGreen
	colorRed    = color.FgRed
	colorYellow = color.FgYellow
)

// StatusOptions are the inputs of `nb NOUN status NAME`.
type StatusOptions struct {
	IO          *iostreams.IOStreams
	KubeClient  func() (*kube.Client, error)
	Namespace   func() (string, error)
	Kind        *kinds.Kind
	Name        string
	ShowSecrets bool
	PrintFlags  *printer.PrintFlags
	Now         func() time.Time
	// Local is the local control plane (nil on a cluster): a claim's
	// status then shows its bucket's health.
	Local func() (*controlplane.ControlPlane, error)
}

// NewCmdStatus returns `nb NOUN status NAME`.
func NewCmdStatus(f *cmdutil.Factory, k *kinds.Kind, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, KubeClient: f.KubeClient, Namespace: f.Namespace, Kind: k,
		PrintFlags: printer.NewPrintFlags(""), Now: time.Now, Local: f.Local}
	cmd := &cobra.Command{
		Use:               "status NAME",
		Short:             fmt.Sprintf("Show %s %s: phase, mode, conditions, Secret and recent events", article(k), k.Kind),
		Args:              cmdutil.ExactArgs("NAME"),
		ValidArgsFunction: CompleteNames(f, k),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "print Secret values instead of masking them")
	opts.PrintFlags.AddFlags(cmd)
	usage := "yaml, json, jsonpath=..., go-template=... (default: a summary)"
	if k == kinds.ObjectBucketClaim {
		usage = "env (export lines for a shell), " + usage
	}
	cmd.Flags().Lookup("output").Usage = usage
	return cmd
}

// Run shows the object.
func (o *StatusOptions) Run(ctx context.Context) error {
	format := outputFormat(o.PrintFlags)
	if format == "wide" {
		// list's wide columns: the summary already shows all of them
		// (and output: wide in the configuration must not break status).
		format = ""
	}
	if format == "env" && o.Kind != kinds.ObjectBucketClaim {
		return exitcode.Usagef("--output", "-o env is for obc status only")
	}
	if format != "" && format != "env" {
		if _, err := o.PrintFlags.ToPrinter(); err != nil {
			return exitcode.Usagef("--output", "%v", err)
		}
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	obj, err := client.Get(ctx, o.Kind.GVR, o.Kind.Noun, ns, o.Name)
	if err != nil {
		return err
	}
	switch format {
	case "":
	case "env":
		conn, err := claimConnection(ctx, client, obj)
		if err != nil {
			return err
		}
		return conn.printEnv(o.IO, o.ShowSecrets)
	default:
		// As kubectl get NAME: the object itself, not a List.
		return printer.Print(o.IO.Out, o.PrintFlags, []*unstructured.Unstructured{obj})
	}
	return o.summary(ctx, client, obj)
}

func (o *StatusOptions) summary(ctx context.Context, client *kube.Client, obj *unstructured.Unstructured) error {
	w := o.IO.Out
	tty := o.IO.IsStdoutTTY()
	_, p := o.Kind.Condition(obj)
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(w, "%-14s %s\n", name+":", value)
		}
	}
	field("Name", obj.GetName())
	field("Namespace", obj.GetNamespace())
	for _, d := range details(o.Kind, obj) {
		field(d[0], d[1])
	}
	phase := p.Phase
	if phase == "" {
		phase = "(none yet: is the operator running?)"
	}
	field("Phase", colorPhase(o.IO, phase))
	field("Mode", p.Mode)
	field("Age", Age(obj.GetCreationTimestamp().Time, o.Now(), tty))
	if ts := obj.GetDeletionTimestamp(); ts != nil {
		field("Deleting", fmt.Sprintf("since %s, held by [%s]", Age(ts.Time, o.Now(), tty), strings.Join(obj.GetFinalizers(), ", ")))
	}

	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	if len(conds) > 0 {
		fmt.Fprintln(w, "\nConditions:")
		t := table.New(w, tty, "TYPE", "STATUS", "REASON", "MESSAGE", "AGE")
		for _, c := range conds {
			m, _ := c.(map[string]interface{})
			str := func(k string) string { s, _ := m[k].(string); return s }
			age := ""
			if ts, err := time.Parse(time.RFC3339, str("lastTransitionTime")); err == nil {
				age = Age(ts, o.Now(), tty)
			}
			t.Row(str("type"), str("status"), str("reason"), str("message"), age)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}

	if o.Kind.SecretName != nil {
		if name := o.Kind.SecretName(obj); name != "" {
			s, err := client.Secret(ctx, obj.GetNamespace(), name)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nSecret %s:\n", name)
			if s == nil {
				fmt.Fprintln(w, "  (missing: the operator will reject the store until it exists)")
			} else if err := printData(w, tty, o.ShowSecrets, s.Data, nil); err != nil {
				return err
			}
		}
	}
	if o.Kind == kinds.ObjectBucketClaim {
		conn, err := claimConnection(ctx, client, obj)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "\nConnection:")
		if err := conn.print(w, tty, o.ShowSecrets); err != nil {
			return err
		}
		conn.noteEndpoint(o.IO)
		if err := o.bucketHealth(ctx, obj); err != nil {
			return err
		}
	}

	events, err := client.Events(ctx, obj.GetNamespace(), o.Kind.Kind, obj.GetName())
	if err != nil {
		return err
	}
	if len(events) > 10 {
		events = events[len(events)-10:]
	}
	if len(events) > 0 {
		fmt.Fprintln(w, "\nEvents:")
		t := table.New(w, tty, "TYPE", "REASON", "AGE", "MESSAGE")
		for _, e := range events {
			typ := e.Type
			if typ == corev1.EventTypeWarning {
				typ = o.IO.Color(colorYellow).Sprint(typ)
			}
			t.Row(typ, e.Reason, Age(kube.EventTime(e).Time, o.Now(), tty), strings.TrimSpace(e.Message))
		}
		return t.Render()
	}
	return nil
}

// printData prints plain values as they are and secret values masked
// unless --show-secrets.
func printData(w io.Writer, tty, showSecrets bool, secret map[string][]byte, plain map[string]string) error {
	type kv struct{ k, v string }
	var rows []kv
	for k, v := range plain {
		rows = append(rows, kv{k, v})
	}
	for k, v := range secret {
		val := printer.Mask
		if showSecrets {
			val = string(v)
		}
		rows = append(rows, kv{k, val})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].k < rows[j].k })
	t := table.New(w, tty, "KEY", "VALUE")
	for _, r := range rows {
		t.Row("  "+r.k, r.v)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "  (empty)")
		return nil
	}
	return t.Render()
}

// details are the kind-specific lines of a summary.
func details(k *kinds.Kind, obj *unstructured.Unstructured) [][2]string {
	str := func(path ...string) string { v, _, _ := unstructured.NestedString(obj.Object, path...); return v }
	switch k {
	case kinds.BackingStore, kinds.NamespaceStore:
		out := [][2]string{{"Type", str("spec", "type")}}
		for _, c := range k.Columns() {
			if c.Name == "TARGET" {
				out = append(out, [2]string{"Target", c.Cell(obj)})
			}
		}
		if k == kinds.NamespaceStore {
			out = append(out, [2]string{"Access mode", str("spec", "accessMode")})
		}
		return out
	case kinds.BucketClass:
		var out [][2]string
		tiers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "placementPolicy", "tiers")
		for i, t := range tiers {
			m, _ := t.(map[string]interface{})
			placement, _ := m["placement"].(string)
			if placement == "" {
				placement = "single store"
			}
			stores, _, _ := unstructured.NestedStringSlice(m, "backingStores")
			out = append(out, [2]string{fmt.Sprintf("Tier %d", i+1), fmt.Sprintf("%s [%s]", placement, strings.Join(stores, ", "))})
		}
		if t := str("spec", "namespacePolicy", "type"); t != "" {
			_, ns := nbv1.StoresUsedBy(obj)
			out = append(out, [2]string{"Namespace", fmt.Sprintf("%s [%s]", t, strings.Join(ns, ", "))})
		}
		if q := str("spec", "quota", "maxSize"); q != "" {
			out = append(out, [2]string{"Max size", q})
		}
		if q := str("spec", "quota", "maxObjects"); q != "" {
			out = append(out, [2]string{"Max objects", q})
		}
		return out
	case kinds.ObjectBucketClaim:
		bucket := str("spec", "bucketName")
		if bucket == "" {
			bucket = str("spec", "generateBucketName") + "-<generated>"
		}
		return [][2]string{
			{"Bucket class", str("spec", "additionalConfig", obv1.ConfigBucketClass)},
			{"Storage class", str("spec", "storageClassName")},
			{"Bucket", bucket},
			{"ObjectBucket", str("spec", "objectBucketName")},
		}
	}
	return nil
}

// bucketHealth prints a local claim's bucket health ("Bucket status", as
// the operator CLI's obc status has it).
func (o *StatusOptions) bucketHealth(ctx context.Context, obj *unstructured.Unstructured) error {
	if o.Local == nil {
		return nil
	}
	cp, err := o.Local()
	if err != nil || cp == nil {
		return err
	}
	bucket, _, _ := unstructured.NestedString(obj.Object, "spec", "bucketName")
	if bucket == "" {
		return nil
	}
	all, err := cp.BucketStatuses(ctx)
	if err != nil {
		fmt.Fprintf(o.IO.ErrOut, "warning: bucket status: %v\n", err)
		return nil
	}
	for _, st := range all {
		if st.Name != bucket {
			continue
		}
		maxSize, _, _ := unstructured.NestedString(obj.Object, "spec", "additionalConfig", obv1.ConfigMaxSize)
		maxObjects, _, _ := unstructured.NestedString(obj.Object, "spec", "additionalConfig", obv1.ConfigMaxObjects)
		n, _ := strconv.ParseInt(maxObjects, 10, 64)
		fmt.Fprintln(o.IO.Out, "\nBucket status:")
		PrintBucketHealth(o.IO.Out, st, maxSize, n, o.Now(), o.IO.IsStdoutTTY())
	}
	return nil
}
