package bucketclass

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/kinds"
)

// NewCmdBucketClass returns `nb bucketclass`.
func NewCmdBucketClass(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bucketclass",
		Aliases: []string{"bucketclasses", "bc"},
		Short:   "Manage BucketClasses: how buckets place their data",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(
		NewCmdCreate(f, nil),
		NewCmdUpdate(f, nil),
		resource.NewCmdStatus(f, kinds.BucketClass, nil),
		resource.NewCmdList(f, kinds.BucketClass, nil),
		resource.NewCmdDelete(f, kinds.BucketClass, nil),
	)
	return cmd
}
