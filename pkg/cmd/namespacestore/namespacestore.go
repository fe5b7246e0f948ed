// Package namespacestore holds `nb namespacestore` and its verbs.
package namespacestore

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmd/store"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/manifest"
)

// NewCmdNamespaceStore returns `nb namespacestore`.
func NewCmdNamespaceStore(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "namespacestore",
		Aliases: []string{"namespacestores", "ns"},
		Short:   "Manage NamespaceStores: storage whose objects NooBaa serves as they are",
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(
		store.NewCmdCreate(f, manifest.Namespace, nil),
		resource.NewCmdStatus(f, kinds.NamespaceStore, nil),
		resource.NewCmdList(f, kinds.NamespaceStore, nil),
		resource.NewCmdDelete(f, kinds.NamespaceStore, nil),
	)
	return cmd
}
