package cmdutil

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/config"
	"github.com/nbctl/nb/pkg/exitcode"
)

// GlobalFlags are --config and --color.
type GlobalFlags struct {
	ConfigPath string
	Color      string
}

// AddFlags registers the flags on the root command.
func (g *GlobalFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&g.ConfigPath, "config", "", "the configuration file (default $NB_CONFIG, else $XDG_CONFIG_HOME/nb/config.yaml, else ~/.config/nb/config.yaml)")
	_ = cmd.MarkPersistentFlagFilename("config", "yaml", "yml")
	fl.StringVar(&g.Color, "color", "auto", `colour: "auto" (on a terminal, unless NO_COLOR is set), "always" or "never"`)
	_ = cmd.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// Apply runs once the command line is parsed: it reads the configuration,
// fills in the flags the command line left out (flag > NB_* environment >
// file > default), and sets colour.
func (g *GlobalFlags) Apply(f *Factory, cmd *cobra.Command) error {
	getenv := f.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := config.Load(getenv, g.ConfigPath)
	if err != nil {
		return usage(err)
	}
	values, err := cfg.Apply(cmd.Name(), cmd.Flags())
	if err != nil {
		return usage(err)
	}
	f.Config, f.Settings = cfg, values
	switch g.Color {
	case "always":
		f.IOStreams.SetColorEnabled(true)
	case "never":
		f.IOStreams.SetColorEnabled(false)
	default:
		f.IOStreams.SetColorAuto(getenv)
	}
	return nil
}

// usage makes a configuration problem a usage error naming where it lies.
func usage(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return &exitcode.UsageError{Flag: ce.Origin, Err: ce.Err}
	}
	return &exitcode.UsageError{Flag: "--config", Err: err}
}
