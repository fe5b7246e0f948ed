// Package config implements `nb config`: the effective settings and where
// each came from.
package config

import (
	"encoding/json"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/config"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/table"
)

// NewCmdConfig returns `nb config`.
func NewCmdConfig(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show nb's configuration: the settings in effect and where each came from",
		Long: heredoc.Doc(`
			nb reads its settings from, in this order of precedence: the command line's flags,
			NB_* environment variables (NB_TARGET, NB_NAMESPACE, NB_REQUEST_TIMEOUT, ...), a YAML
			configuration file ($XDG_CONFIG_HOME/nb/config.yaml, else ~/.config/nb/config.yaml, or
			--config / NB_CONFIG), and the defaults.

			An example configuration file:

			    target: kube
			    namespace: openshift-storage
			    context: prod
			    request-timeout: 10s
			    timeout: 10m
			    output: wide
			    color: never`),
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(NewCmdView(f, nil))
	return cmd
}

// ViewOptions are the inputs of `nb config view`.
type ViewOptions struct {
	IO        *iostreams.IOStreams
	Output    string
	Namespace func() (string, error)
	Getenv    func(string) string
	Config    func() (*config.Config, []config.Value)
}

// NewCmdView returns `nb config view`.
func NewCmdView(f *cmdutil.Factory, runF func(*ViewOptions) error) *cobra.Command {
	opts := &ViewOptions{IO: f.IOStreams, Namespace: f.Namespace, Getenv: f.Getenv,
		Config: func() (*config.Config, []config.Value) { return f.Config, f.Settings }}
	cmd := &cobra.Command{
		Use:   "view",
		Short: "Show each setting's effective value and its source (flag, env, file or default)",
		Example: heredoc.Doc(`
			nb config view
			NB_TARGET=local nb config view -o yaml
			nb config view --config ./ci.yaml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return opts.Run()
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", `output format: "" for a table, json or yaml`)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

type entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
	Origin string `json:"origin"`
}

type view struct {
	File     string  `json:"file"`
	Found    bool    `json:"found"`
	Settings []entry `json:"settings"`
}

// Run prints the settings.
func (o *ViewOptions) Run() error {
	cfg, values := o.Config()
	if cfg == nil {
		return fmt.Errorf("the configuration was not loaded")
	}
	v := view{File: cfg.Path, Found: cfg.Found}
	for _, val := range values {
		e := entry{Key: val.Key, Value: val.Value, Source: val.Source, Origin: val.Origin}
		// Show the defaults nb computes as the values they are here.
		if val.Source == config.SourceDefault {
			switch val.Key {
			case "namespace":
				if ns, err := o.Namespace(); err == nil {
					e.Value = ns
				}
			case "state-dir":
				if dir, err := controlplane.DefaultDir(o.Getenv); err == nil {
					e.Value = dir
				}
			}
		}
		v.Settings = append(v.Settings, e)
	}
	switch o.Output {
	case "json":
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		out, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = o.IO.Out.Write(out)
		return err
	case "":
	default:
		return exitcode.Usagef("--output", "%q is not supported: use json or yaml, or leave it out for a table", o.Output)
	}
	found := "found"
	if !v.Found {
		found = "not found"
	}
	if v.File == "" {
		v.File, found = "none", "HOME and XDG_CONFIG_HOME are not set; pass --config"
	}
	if o.IO.IsStdoutTTY() {
		fmt.Fprintf(o.IO.Out, "Configuration file: %s (%s)\n\n", v.File, found)
	} else { // keep stdout to the tab-separated rows
		fmt.Fprintf(o.IO.ErrOut, "Configuration file: %s (%s)\n", v.File, found)
	}
	t := table.New(o.IO.Out, o.IO.IsStdoutTTY(), "KEY", "VALUE", "SOURCE")
	for _, e := range v.Settings {
		src := e.Source
		if e.Source != config.SourceDefault {
			src += " " + e.Origin
		}
		t.Row(e.Key, e.Value, src)
	}
	return t.Render()
}
