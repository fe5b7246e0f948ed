// Package obc holds `nb obc` (ObjectBucketClaims) and its verbs.
package obc

import (
	"context"
	"errors"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/printer"
)

// CreateOptions are the inputs of `nb obc create`.
type CreateOptions struct {
	IO         *iostreams.IOStreams
	ReadFile   func(string) ([]byte, error)
	Namespace  func() (string, error)
	KubeClient func() (*kube.Client, error)
	Local      func() (*controlplane.ControlPlane, error)

	Input                 manifest.Claim
	ReplicationPolicyFile string
	Create                *create.Flags
}

// NewCmdCreate returns `nb obc create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{IO: f.IOStreams, ReadFile: f.ReadFile, Namespace: f.Namespace, KubeClient: f.KubeClient, Local: f.Local, Create: create.NewFlags()}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Claim a bucket with an ObjectBucketClaim",
		Example: heredoc.Doc(`
			# a bucket named federated-bucket-<uuid> placed by the class mirror1
			nb obc create federated-bucket --bucketclass mirror1
			# a bucket named exactly my-bucket, claimed from the namespace of an application
			nb obc create my-bucket --exact --app-namespace shop --bucketclass mirror1`),
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
	in := &opts.Input
	fl := cmd.Flags()
	fl.StringVar(&in.BucketClass, "bucketclass", "", "the BucketClass that places the bucket's data (default: the StorageClass's)")
	_ = cmd.RegisterFlagCompletionFunc("bucketclass", resource.CompleteFlagNames(f, kinds.BucketClass))
	fl.BoolVar(&in.Exact, "exact", false, "name the bucket exactly NAME instead of NAME-<uuid>")
	fl.StringVar(&in.AppNamespace, "app-namespace", "", "the namespace of the claim and its ConfigMap and Secret (default: --namespace)")
	fl.StringVar(&in.StorageClass, "storage-class", "", "the provisioner's StorageClass (default: <namespace>.noobaa.io)")
	fl.StringVar(&in.MaxSize, "max-size", "", "quota on the bucket's size, e.g. 100Gi")
	fl.StringVar(&in.MaxObjects, "max-objects", "", "quota on the bucket's number of objects")
	fl.StringVar(&in.Path, "path", "", "a folder of the namespace store to serve (namespace bucket classes)")
	fl.StringVar(&opts.ReplicationPolicyFile, "replication-policy", "", "a JSON file with the bucket replication rules")
	fl.StringVar(&in.BucketType, "bucket-type", "", `"vector" for a vector bucket; leave out for a data bucket`)
	fl.IntVar(&in.UID, "uid", -1, "NSFS account: the file system user ID (with --gid)")
	fl.IntVar(&in.GID, "gid", -1, "NSFS account: the file system group ID (with --uid)")
	fl.StringVar(&in.DistinguishedName, "distinguished-name", "", "NSFS account: the file system user name")
	opts.Create.AddFlags(cmd, "Bound")
	return cmd
}

// Run prints or creates the claim (RunE has completed and validated the
// options first, also when a test gives its own runF).
func (o *CreateOptions) Run(ctx context.Context) error {
	claim := o.Input.Build()
	if o.Create.DryRun == create.DryRunClient {
		return o.Create.PrintClientDryRun(o.IO, []runtime.Object{claim})
	}
	if err := o.checkDefaultClass(ctx); err != nil {
		return err
	}
	bound, err := o.Create.OnCluster(ctx, o.IO, o.KubeClient, create.Objects{Object: claim}, kinds.ObjectBucketClaim)
	if err != nil || !o.Create.Wait.Wait || o.Create.DryRun != create.DryRunNone || printer.IsStructured(o.Create.PrintFlags) {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	return resource.PrintConnection(ctx, o.IO, client, bound, o.Create.ShowSecrets)
}

// Complete fills in the namespaces and reads the replication policy.
func (o *CreateOptions) Complete() error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	o.Input.NooBaaNamespace = ns
	if o.Input.AppNamespace == "" {
		o.Input.AppNamespace = ns
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

// checkDefaultClass: on the local target a claim that names no class
// binds on noobaa-default-bucket-class; without one it would wait for a
// class nothing makes, so it fails at once, naming the classes there are.
func (o *CreateOptions) checkDefaultClass(ctx context.Context) error {
	if o.Input.BucketClass != "" || o.Input.StorageClass != "" || o.Local == nil {
		return nil
	}
	cp, err := o.Local()
	if err != nil || cp == nil {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	ns := o.Input.NooBaaNamespace
	if _, err := client.Get(ctx, kinds.BucketClass.GVR, "bucketclass", ns, nbv1.DefaultBucketClass); !errors.Is(err, kube.ErrNotFound) {
		return err
	}
	list, err := client.List(ctx, kinds.BucketClass.GVR, ns)
	if err != nil {
		return err
	}
	var names []string
	for _, c := range list {
		names = append(names, c.GetName())
	}
	if len(names) == 0 {
		return exitcode.Usagef("--bucketclass", "namespace %q has no bucket class, not even %s: create one first (nb bucketclass create placement-bucketclass NAME --backingstores ...) and pass it", ns, nbv1.DefaultBucketClass)
	}
	return exitcode.Usagef("--bucketclass", "namespace %q has no %s: pass --bucketclass, one of %s", ns, nbv1.DefaultBucketClass, strings.Join(names, ", "))
}
