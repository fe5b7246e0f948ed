// Package bucketclass holds `nb bucketclass` and its verbs.
package bucketclass

import (
	"context"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
)

// CreateOptions are the inputs of `nb bucketclass create`.
type CreateOptions struct {
	IO         *iostreams.IOStreams
	ReadFile   func(string) ([]byte, error)
	Namespace  func() (string, error)
	KubeClient func() (*kube.Client, error)

	Input manifest.BucketClass
	// Placement and BackingStores describe the first tier; Tiers (from
	// --tier) is the alternative that allows a second one.
	Placement             string
	BackingStores         []string
	Tiers                 []string
	ReplicationPolicyFile string

	Create *create.Flags
}

// NewCmdCreate returns `nb bucketclass create` and its subcommands.
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := newOptions(f)
	cmd := &cobra.Command{
		Use:   "create [placement-bucketclass|namespace-bucketclass] NAME",
		Short: "Create a BucketClass: a placement policy or a namespace policy",
		Long: heredoc.Doc(`
			Create a BucketClass. "nb bucketclass create NAME --placement Mirror --backingstores a,b"
			makes a placement class, as "nb bucketclass create placement-bucketclass NAME" does;
			namespace classes are "nb bucketclass create namespace-bucketclass single|multi|cache NAME".`),
		Example: heredoc.Doc(`
			nb bucketclass create mirror-class --placement Mirror --backingstores aws1,pv1
			nb bucketclass create placement-bucketclass tiered --tier Mirror:pv1,pv2 --tier Spread:aws1
			nb bucketclass create namespace-bucketclass single ns-class --resource aws-ns`),
		Annotations: map[string]string{"subject": "bucket class kind"},
		Args:        cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 0:
				return cmd.Help()
			case len(args) > 1:
				// "create placment-bucketclass x": a kind mistyped.
				return cmdutil.UnknownSubcommand(cmd, args[0])
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 && len(opts.BackingStores) == 0 && len(opts.Tiers) == 0 {
				return cmdutil.UnknownSubcommand(cmd, args[0])
			}
			opts.Input.Name = args[0]
			if err := opts.Complete(); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	addPlacementFlags(f, cmd, opts)
	cmd.Flags().StringArrayVar(&opts.Tiers, "tier", nil, "a tier as PLACEMENT:STORE[,STORE...], e.g. Mirror:aws1,pv1; repeat for a second tier (instead of --placement/--backingstores)")
	addCommonFlags(cmd, opts)
	cmd.AddCommand(newCmdPlacement(f, runF), newCmdNamespace(f, runF))
	return cmd
}

func newOptions(f *cmdutil.Factory) *CreateOptions {
	return &CreateOptions{IO: f.IOStreams, ReadFile: f.ReadFile, Namespace: f.Namespace, KubeClient: f.KubeClient, Create: create.NewFlags()}
}

func newCmdPlacement(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := newOptions(f)
	cmd := &cobra.Command{
		Use:   "placement-bucketclass NAME",
		Short: "Create a BucketClass that places data on backing stores (Mirror or Spread, one or two tiers)",
		Example: heredoc.Doc(`
			# a copy of every object on each of two stores
			nb bucketclass create placement-bucketclass mirror1 --backingstores aws1,pv1 --placement Mirror
			# two tiers: writes go to the first tier with room
			nb bucketclass create placement-bucketclass tiered --tier Mirror:pv1,pv2 --tier Spread:aws1,aws2`),
		Args: cmdutil.ExactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input.Name = args[0]
			if err := opts.Complete(); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	addPlacementFlags(f, cmd, opts)
	cmd.Flags().StringArrayVar(&opts.Tiers, "tier", nil, "a tier as PLACEMENT:STORE[,STORE...], e.g. Mirror:aws1,pv1; repeat for a second tier (instead of --placement/--backingstores)")
	addCommonFlags(cmd, opts)
	return cmd
}

func addPlacementFlags(f *cmdutil.Factory, cmd *cobra.Command, opts *CreateOptions) {
	cmd.Flags().StringVar(&opts.Placement, "placement", "", "Mirror or Spread; leave out for a single store")
	cmd.Flags().StringSliceVar(&opts.BackingStores, "backingstores", nil, "backing stores of the tier, comma-separated")
	_ = cmd.RegisterFlagCompletionFunc("placement", cobra.FixedCompletions([]string{"Mirror", "Spread"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("backingstores", resource.CompleteNamesList(f, kinds.BackingStore))
}

func addCommonFlags(cmd *cobra.Command, opts *CreateOptions) {
	cmd.Flags().StringVar(&opts.Input.ErasureCoding, "erasure-coding", "", "K+M: erasure-code Spread tiers in nb's data path (local target), surviving M lost stores, e.g. 2+1")
	cmd.Flags().StringVar(&opts.Input.MaxSize, "max-size", "", "quota on the size of each bucket, e.g. 100Gi (1Gi to 1023Pi)")
	cmd.Flags().StringVar(&opts.Input.MaxObjects, "max-objects", "", "quota on the number of objects in each bucket")
	cmd.Flags().StringVar(&opts.ReplicationPolicyFile, "replication-policy", "", "a JSON file with the bucket replication rules")
	opts.Create.AddFlags(cmd, "Ready")
}

func newCmdNamespace(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:         "namespace-bucketclass single|multi|cache NAME",
		Short:       "Create a BucketClass that serves namespace stores",
		Annotations: map[string]string{"subject": "namespace policy"},
	}
	cmdutil.SubcommandRequired(cmd)
	for _, kind := range []struct{ name, short, example string }{
		{"single", "read and write one namespace store", "nb bucketclass create namespace-bucketclass single ns1 --resource aws-ns"},
		{"multi", "read from several namespace stores, write to at most one", "nb bucketclass create namespace-bucketclass multi ns2 --read-resources aws-ns,azure-ns --write-resource aws-ns"},
		{"cache", "cache a namespace store on backing stores", "nb bucketclass create namespace-bucketclass cache ns3 --hub-resource aws-ns --backingstores pv1 --ttl 60000"},
	} {
		opts := newOptions(f)
		policy := &manifest.NamespacePolicyInput{Type: kind.name}
		sub := &cobra.Command{
			Use:     kind.name + " NAME",
			Short:   "Create a BucketClass that can " + kind.short,
			Example: kind.example,
			Args:    cmdutil.ExactArgs("NAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				opts.Input.Name = args[0]
				opts.Input.NamespacePolicy = policy
				if err := opts.Complete(); err != nil {
					return err
				}
				if err := opts.Validate(); err != nil {
					return err
				}
				if runF != nil {
					return runF(opts)
				}
				return opts.Run(cmd.Context())
			},
		}
		switch kind.name {
		case "single":
			sub.Flags().StringVar(&policy.Resource, "resource", "", "the namespace store to serve")
			_ = sub.RegisterFlagCompletionFunc("resource", resource.CompleteFlagNames(f, kinds.NamespaceStore))
		case "multi":
			sub.Flags().StringSliceVar(&policy.ReadResources, "read-resources", nil, "namespace stores to read from, comma-separated")
			sub.Flags().StringVar(&policy.WriteResource, "write-resource", "", "the namespace store to write to (default: read-only)")
			_ = sub.RegisterFlagCompletionFunc("read-resources", resource.CompleteNamesList(f, kinds.NamespaceStore))
			_ = sub.RegisterFlagCompletionFunc("write-resource", resource.CompleteFlagNames(f, kinds.NamespaceStore))
		case "cache":
			sub.Flags().StringVar(&policy.HubResource, "hub-resource", "", "the namespace store to cache")
			_ = sub.RegisterFlagCompletionFunc("hub-resource", resource.CompleteFlagNames(f, kinds.NamespaceStore))
			sub.Flags().IntVar(&policy.TTL, "ttl", 0, "milliseconds before a cached object is revalidated (0: always compare ETags, negative: never)")
			sub.Flags().StringVar(&policy.Prefix, "prefix", "", "cache only keys with this prefix")
			addPlacementFlags(f, sub, opts)
		}
		addCommonFlags(sub, opts)
		cmd.AddCommand(sub)
	}
	return cmd
}

// Run prints or creates the BucketClass (RunE has completed and validated
// the options first, also when a test gives its own runF).
func (o *CreateOptions) Run(ctx context.Context) error {
	bc := o.Input.Build()
	if o.Create.DryRun == create.DryRunClient {
		return o.Create.PrintClientDryRun(o.IO, []runtime.Object{bc})
	}
	_, err := o.Create.OnCluster(ctx, o.IO, o.KubeClient, create.Objects{Object: bc}, kinds.BucketClass)
	return err
}

// Complete turns the flags into tiers and reads the replication policy.
func (o *CreateOptions) Complete() error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	o.Input.Namespace = ns
	if len(o.Tiers) > 0 && (o.Placement != "" || len(o.BackingStores) > 0) {
		return exitcode.Usagef("--tier", "use either --tier or --placement/--backingstores, not both")
	}
	o.Input.Tiers = nil
	for _, t := range o.Tiers {
		tier, err := manifest.ParseTier(t)
		if err != nil {
			return err
		}
		o.Input.Tiers = append(o.Input.Tiers, tier)
	}
	if len(o.BackingStores) > 0 || o.Placement != "" {
		o.Input.Tiers = []manifest.TierInput{{Flag: "--backingstores", Placement: o.Placement, Stores: o.BackingStores}}
	}
	if o.ReplicationPolicyFile != "" {
		raw, err := cmdutil.ReadFlagFile(o.ReadFile, "--replication-policy", o.ReplicationPolicyFile)
		if err != nil {
			return err
		}
		o.Input.ReplicationPolicy = string(raw)
	}
	return nil
}

// Validate checks the inputs.
func (o *CreateOptions) Validate() error {
	if err := o.Create.Validate(); err != nil {
		return err
	}
	return o.Input.Validate()
}
