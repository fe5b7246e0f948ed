package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/printer"
)

// Dry-run strategies, as kubectl spells them.
const (
	DryRunNone   = "none"
	DryRunClient = "client"
	DryRunServer = "server"
)

// CreateFlags are the output flags every create command shares:
// --dry-run, -o and --show-secrets.
type CreateFlags struct {
	DryRun      string
	PrintFlags  *printer.PrintFlags
	ShowSecrets bool
	Wait        WaitFlags
}

// NewCreateFlags returns the flags with kubectl's defaults.
func NewCreateFlags() *CreateFlags {
	return &CreateFlags{DryRun: DryRunNone, PrintFlags: printer.NewPrintFlags("created")}
}

// AddFlags registers the flags on cmd; goal names the state --wait waits for.
func (c *CreateFlags) AddFlags(cmd *cobra.Command, goal string) {
	AddWaitFlags(cmd, &c.Wait, goal)
	cmd.Flags().StringVar(&c.DryRun, "dry-run", c.DryRun,
		`"client" prints the objects without sending them; "server" sends them for validation without persisting; "none" creates them`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = DryRunClient
	c.PrintFlags.AddFlags(cmd)
	cmd.Flags().BoolVar(&c.ShowSecrets, "show-secrets", false, "print Secret values instead of masking them")
}

// Validate checks the values of the flags.
func (c *CreateFlags) Validate() error {
	switch c.DryRun {
	case DryRunNone, DryRunClient, DryRunServer:
	default:
		return exitcode.Usagef("--dry-run", "invalid value %q: use none, client or server", c.DryRun)
	}
	if _, err := c.PrintFlags.ToPrinter(); err != nil {
		return exitcode.Usagef("--output", "%v", err)
	}
	return nil
}

// PrintClientDryRun prints what a create would send, touching no cluster:
// the objects in -o format (Secret values masked unless --show-secrets),
// or one "kind/name created (dry run)" line each.
func (c *CreateFlags) PrintClientDryRun(io *iostreams.IOStreams, objs []runtime.Object) error {
	us, err := manifest.ToUnstructuredList(objs)
	if err != nil {
		return err
	}
	return c.print(io, us, "%s (dry run)")
}

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
