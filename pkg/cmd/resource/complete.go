package resource

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/kinds"
)

// completionTimeout keeps completion snappy when the cluster is slow or
// unreachable: a shell must never hang on <TAB>.
const completionTimeout = 2 * time.Second

// Names lists the names of a kind in the current namespace for shell
// completion; any error yields no names, silently.
func Names(ctx context.Context, f *cmdutil.Factory, k *kinds.Kind) []string {
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	ns, err := f.Namespace()
	if err != nil {
		return nil
	}
	client, err := f.KubeClient()
	if err != nil {
		return nil
	}
	items, err := client.List(ctx, k.GVR, ns)
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		names = append(names, it.GetName())
	}
	return names
}

// CompleteNames completes the NAME argument of status and delete.
func CompleteNames(f *cmdutil.Factory, k *kinds.Kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return Names(cmd.Context(), f, k), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteFlagNames completes a flag's value (such as --bucketclass) with
// names of a kind, wherever the flag comes on the line (after NAME too).
func CompleteFlagNames(f *cmdutil.Factory, k *kinds.Kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return Names(cmd.Context(), f, k), cobra.ShellCompDirectiveNoFileComp
	}
}

// CompleteNamesList completes a comma-separated flag value (such as
// --backingstores a,b) with names of a kind, after what is already typed.
func CompleteNamesList(f *cmdutil.Factory, k *kinds.Kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		for i := len(toComplete) - 1; i >= 0; i-- {
			if toComplete[i] == ',' {
				prefix = toComplete[:i+1]
				break
			}
		}
		typed := map[string]bool{}
		for _, n := range strings.Split(strings.TrimSuffix(prefix, ","), ",") {
			typed[strings.TrimSpace(n)] = true
		}
		var out []string
		for _, n := range Names(cmd.Context(), f, k) {
			if !typed[n] { // a store is named once
				out = append(out, prefix+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}
