package bucketclass

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmdutil"
)

// NewCmdBucketClass returns `nb bucketclass`.
func NewCmdBucketClass(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bucketclass",
		Aliases: []string{"bucketclasses", "bc"},
		Short:   "Manage BucketClasses: how buckets place their data",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(NewCmdCreate(f, nil))
	return cmd
}
