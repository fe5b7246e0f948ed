// Package backingstore holds `nb backingstore` and its verbs.
package backingstore

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmd/store"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/manifest"
)

// NewCmdBackingStore returns `nb backingstore`.
func NewCmdBackingStore(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "backingstore",
		Aliases: []string{"backingstores", "bs"},
		Short:   "Manage BackingStores: the storage NooBaa places bucket data on",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(
		store.NewCmdCreate(f, manifest.Backing, nil),
		resource.NewCmdStatus(f, kinds.BackingStore, nil),
		resource.NewCmdList(f, kinds.BackingStore, nil),
		resource.NewCmdDelete(f, kinds.BackingStore, nil),
	)
	return cmd
}
