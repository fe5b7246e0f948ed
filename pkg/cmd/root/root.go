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
	"github.com/nbctl/nb/pkg/exitcode"
)

// NewCmdRoot returns `nb` with every subcommand. f.Bind registers the
// flags every command shares and completes f from them.
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
	f.Bind(cmd)
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
