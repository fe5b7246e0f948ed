// Package root builds nb's command tree.
package root

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/backingstore"
	"github.com/nbctl/nb/pkg/cmd/bucketclass"
	"github.com/nbctl/nb/pkg/cmd/namespacestore"
	"github.com/nbctl/nb/pkg/cmd/obc"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
)

// NewCmdRoot returns `nb` with every subcommand. It registers the global
// flags and points f.Namespace at -n/--namespace.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nb",
		Short: "nb manages NooBaa multi-cloud object federation",
		Long: `nb creates and watches NooBaa BackingStores, NamespaceStores, BucketClasses and
ObjectBucketClaims, and proves that a bucket survives the loss of a store.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmdutil.SubcommandRequired(cmd)
	var namespace string
	cmd.PersistentFlags().StringVarP(&namespace, "namespace", "n", "noobaa", "the namespace NooBaa runs in")
	f.Namespace = func() (string, error) { return namespace, nil }
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.UsageError{Err: err}
	})
	cmd.AddCommand(
		backingstore.NewCmdBackingStore(f),
		namespacestore.NewCmdNamespaceStore(f),
		bucketclass.NewCmdBucketClass(f),
		obc.NewCmdOBC(f),
	)
	return cmd
}
