package obc

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/kinds"
)

// NewCmdOBC returns `nb obc`.
func NewCmdOBC(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "obc",
		Aliases: []string{"objectbucketclaim", "objectbucketclaims", "obcs"},
		Short:   "Manage ObjectBucketClaims: buckets claimed by applications",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(
		NewCmdCreate(f, nil),
		resource.NewCmdStatus(f, kinds.ObjectBucketClaim, nil),
		resource.NewCmdList(f, kinds.ObjectBucketClaim, nil),
		resource.NewCmdDelete(f, kinds.ObjectBucketClaim, nil),
	)
	return cmd
}
