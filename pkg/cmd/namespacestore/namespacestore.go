// Package namespacestore holds `nb namespacestore` and its verbs.
package namespacestore

import (
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/store"
	"github.com/nbctl/nb/pkg/cmdutil"
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
	cmd.AddCommand(store.NewCmdCreate(f, manifest.Namespace, nil))
	return cmd
}
