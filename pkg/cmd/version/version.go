// Package version implements `nb version`.
package version

import (
	"encoding/json"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/buildinfo"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
)

// Options are the inputs of `nb version`.
type Options struct {
	IO     *iostreams.IOStreams
	Output string
	Info   func() buildinfo.Info
}

// NewCmdVersion returns `nb version`.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Info: buildinfo.Get}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print nb's version, commit and build date",
		Example: heredoc.Doc(`
			nb version
			nb version -o json | jq -r .version`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return opts.Run()
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", `output format: "" for one line, or json`)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run prints the version.
func (o *Options) Run() error {
	info := o.Info()
	switch o.Output {
	case "":
		fmt.Fprintf(o.IO.Out, "nb %s (commit %s, built %s, %s %s)\n", info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
		return nil
	case "json":
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	return exitcode.Usagef("--output", "%q is not supported: use json, or leave it out for one line", o.Output)
}
