// Package create holds what the commands that create or change objects
// share: the --dry-run, -o, --show-secrets, --wait and --timeout flags,
// and the flow behind them: the objects created (a credentials Secret
// first, then the object), waited on with progress on stderr, and printed
// as kubectl prints them.
package create

import (
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

// Flags are the output flags every create command shares:
// --dry-run, -o and --show-secrets.
type Flags struct {
	DryRun      string
	PrintFlags  *printer.PrintFlags
	ShowSecrets bool
	Wait        WaitFlags
}

// NewFlags returns the flags with kubectl's defaults.
func NewFlags() *Flags {
	return &Flags{DryRun: DryRunNone, PrintFlags: printer.NewPrintFlags("created")}
}

// AddFlags registers the flags on cmd; goal names the state --wait waits for.
func (c *Flags) AddFlags(cmd *cobra.Command, goal string) {
	AddWaitFlags(cmd, &c.Wait, goal)
	cmd.Flags().StringVar(&c.DryRun, "dry-run", c.DryRun,
		`"client" prints the objects without sending them; "server" sends them for validation without persisting; "none" creates them`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = DryRunClient
	c.PrintFlags.AddFlags(cmd)
	cmd.Flags().BoolVar(&c.ShowSecrets, "show-secrets", false, "print Secret values instead of masking them")
}

// Validate checks the values of the flags.
func (c *Flags) Validate() error {
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
func (c *Flags) PrintClientDryRun(io *iostreams.IOStreams, objs []runtime.Object) error {
	us, err := manifest.ToUnstructuredList(objs)
	if err != nil {
		return err
	}
	return c.print(io, us, "%s (dry run)")
}
