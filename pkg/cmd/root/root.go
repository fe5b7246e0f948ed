// Package root builds nb's command tree.
package root

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/apply"
	"github.com/nbctl/nb/pkg/cmd/backingstore"
	"github.com/nbctl/nb/pkg/cmd/bucket"
	"github.com/nbctl/nb/pkg/cmd/bucketclass"
	"github.com/nbctl/nb/pkg/cmd/completion"
	configcmd "github.com/nbctl/nb/pkg/cmd/config"
	"github.com/nbctl/nb/pkg/cmd/edit"
	"github.com/nbctl/nb/pkg/cmd/namespacestore"
	"github.com/nbctl/nb/pkg/cmd/obc"
	"github.com/nbctl/nb/pkg/cmd/recovery"
	"github.com/nbctl/nb/pkg/cmd/serve"
	"github.com/nbctl/nb/pkg/cmd/status"
	"github.com/nbctl/nb/pkg/cmd/verify"
	"github.com/nbctl/nb/pkg/cmd/version"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
)

// NewCmdRoot returns `nb` with every subcommand. It registers the cluster
// flags and, unless a test already set them, points f.Namespace and
// f.KubeClient at those flags.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nb",
		Short: "nb manages NooBaa multi-cloud object federation",
		Long: `nb creates and watches NooBaa BackingStores, NamespaceStores, BucketClasses and
ObjectBucketClaims, and proves that a bucket survives the loss of a store.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if strings.HasPrefix(filepath.Base(f.Executable), "kubectl-") {
		// Installed by krew as kubectl-nb: usage lines read "kubectl nb ...".
		cmd.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl nb"}
	}
	cmdutil.SubcommandRequired(cmd)
	cf := cmdutil.NewConfigFlags()
	cf.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().Lookup("namespace").Usage = `the namespace NooBaa runs in (default: the kubeconfig context's, else "noobaa")`
	tf := &cmdutil.TargetFlags{}
	tf.AddFlags(cmd.PersistentFlags())
	gf := &cmdutil.GlobalFlags{}
	gf.AddFlags(cmd)
	cmd.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		return gf.Apply(f, c)
	}
	bound := &cmdutil.Factory{IOStreams: f.IOStreams, Getenv: f.Getenv}
	cmdutil.BindTarget(bound, cf, tf, cmd.PersistentFlags())
	if f.Namespace == nil {
		f.Namespace = bound.Namespace
	}
	if f.KubeClient == nil {
		f.KubeClient = bound.KubeClient
		f.Local = bound.Local
	}
	if f.Local == nil { // a client given by the caller is a cluster's
		f.Local = func() (*controlplane.ControlPlane, error) { return nil, nil }
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.UsageError{Err: err}
	})
	cmd.AddCommand(
		backingstore.NewCmdBackingStore(f),
		namespacestore.NewCmdNamespaceStore(f),
		bucketclass.NewCmdBucketClass(f),
		obc.NewCmdOBC(f),
		verify.NewCmdVerify(f, nil),
		serve.NewCmdServe(f, nil),
		status.NewCmdStatus(f, nil),
		recovery.NewCmdRecover(f, nil),
		bucket.NewCmdBucket(f),
		apply.NewCmdApply(f, nil),
		apply.NewCmdDelete(f, nil),
		edit.NewCmdEdit(f, nil),
		configcmd.NewCmdConfig(f),
		version.NewCmdVersion(f, nil),
		completion.NewCmdCompletion(f),
	)
	cmd.CompletionOptions.DisableDefaultCmd = true
	return cmd
}
