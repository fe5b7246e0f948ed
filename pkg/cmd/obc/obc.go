package obc

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmdutil"
)

// NewCmdOBC returns `nb obc`.
func NewCmdOBC(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "obc",
		Aliases: []string{"objectbucketclaim", "objectbucketclaims", "obcs"},
		Short:   "Manage ObjectBucketClaims: buckets claimed by applications",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(NewCmdCreate(f, nil))
	return cmd
}
