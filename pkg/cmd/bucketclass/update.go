package bucketclass

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/printer"
)

// UpdateOptions are the inputs of `nb bucketclass update`.
type UpdateOptions struct {
	*CreateOptions
}

// NewCmdUpdate returns `nb bucketclass update NAME`.
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{CreateOptions: newOptions(f)}
	opts.Create.PrintFlags = printer.NewPrintFlags("updated")
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Change a placement BucketClass's tiers (the stores its buckets place data on)",
		Long: heredoc.Doc(`
			Replace the tiers of a placement BucketClass, as editing its YAML would: the new
			--placement/--backingstores (one tier) or --tier flags (one or two) are checked as
			create checks them, then written, and nb waits until the class is Ready again. Its
			buckets place new data by the new tiers from then on.`),
		Example: heredoc.Doc(`
			# the walk-through's "failure": drop the aws-s3 store from the mirror
			nb bucketclass update mirror-class --placement Mirror --backingstores pv1,pv2
			nb bucketclass update tiered --tier Mirror:pv1,pv2 --tier Spread:aws1`),
		Args:              cmdutil.ExactArgs("NAME"),
		ValidArgsFunction: resource.CompleteNames(f, kinds.BucketClass),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	addPlacementFlags(f, cmd, opts.CreateOptions)
	cmd.Flags().StringArrayVar(&opts.Tiers, "tier", nil, "a tier as PLACEMENT:STORE[,STORE...]; repeat for a second tier (instead of --placement/--backingstores)")
	opts.Create.AddFlags(cmd, "Ready")
	return cmd
}

// Run checks the new tiers, patches the class and waits.
func (o *UpdateOptions) Run(ctx context.Context) error {
	if err := o.Complete(); err != nil {
		return err
	}
	if len(o.Input.Tiers) == 0 {
		return exitcode.Usagef("--backingstores", "say what the tiers become: --placement Mirror --backingstores a,b, or --tier PLACEMENT:STORES")
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Create.DryRun == create.DryRunClient {
		return exitcode.Usagef("--dry-run", "update changes a class that exists: use --dry-run=server to check it against the target without writing")
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	ns := o.Input.Namespace
	cur, err := client.Get(ctx, kinds.BucketClass.GVR, kinds.BucketClass.Noun, ns, o.Input.Name)
	if err != nil {
		return err
	}
	if _, ok, _ := unstructured.NestedMap(cur.Object, "spec", "namespacePolicy"); ok {
		return exitcode.Usagef("NAME", "bucketclass %q has a namespace policy: update changes placement tiers only", o.Input.Name)
	}
	want := o.Input.Build()
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"placementPolicy": want.Spec.PlacementPolicy}})
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: "nb"}
	if o.Create.DryRun == create.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	updated, err := client.Dynamic.Resource(kinds.BucketClass.GVR).Namespace(ns).Patch(ctx, o.Input.Name, types.MergePatchType, patch, opts)
	if err != nil {
		return client.Translate(err, kube.Action{Verb: "update", Resource: kinds.BucketClass.GVR.GroupResource(), Name: o.Input.Name, Namespace: ns})
	}
	label := kube.Kind(kinds.BucketClass.GVR, o.Input.Name)
	if o.Create.DryRun == create.DryRunServer {
		fmt.Fprintf(o.IO.Out, "%s updated (server dry run)\n", label)
		return nil
	}
	if !printer.IsStructured(o.Create.PrintFlags) {
		fmt.Fprintf(o.IO.Out, "%s updated\n", label)
	}
	if o.Create.Wait.Wait {
		wctx, cancel := context.WithTimeout(ctx, o.Create.Wait.Timeout)
		defer cancel()
		if updated, err = create.WaitFor(wctx, o.IO, client, kinds.BucketClass, ns, o.Input.Name); err != nil {
			return err
		}
	}
	if printer.IsStructured(o.Create.PrintFlags) {
		flags := *o.Create.PrintFlags
		if err := flags.Complete("%s"); err != nil {
			return err
		}
		return printer.Print(o.IO.Out, &flags, []*unstructured.Unstructured{updated})
	}
	return nil
}
