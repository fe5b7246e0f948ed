package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/exitcode"
)

// ExactArgs requires exactly the named positional arguments.
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return exitcode.Usagef(names[len(args)], "%s is required: %s", names[len(args)], cmd.UseLine())
		}
		if len(args) > len(names) {
			return exitcode.Usagef("", "unexpected argument %q: %s", args[len(names)], cmd.UseLine())
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return exitcode.Usagef(names[i], "%s is empty: %s", names[i], cmd.UseLine())
			}
		}
		return nil
	}
}

// SubcommandRequired makes a group command fail with a usage error naming
// the valid subcommands when it is run with an unknown one, and print its
// help when run alone.
func SubcommandRequired(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	// Flags meant for a subcommand must not hide the real mistake, an
	// unknown subcommand, behind "unknown flag".
	cmd.FParseErrWhitelist.UnknownFlags = true
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return UnknownSubcommand(cmd, args[0])
	}
}

// UnknownSubcommand is the usage error for a word that is none of cmd's
// subcommands: with "did you mean" when one is close (as cobra suggests).
func UnknownSubcommand(cmd *cobra.Command, word string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		return exitcode.Usagef("", "unknown %s %q for %q: did you mean %s?", subject(cmd), word, cmd.CommandPath(), strings.Join(s, " or "))
	}
	return exitcode.Usagef("", "unknown %s %q for %q: use one of %s", subject(cmd), word, cmd.CommandPath(), strings.Join(names, ", "))
}

func subject(cmd *cobra.Command) string {
	if s, ok := cmd.Annotations["subject"]; ok {
		return s
	}
	return "command"
}
