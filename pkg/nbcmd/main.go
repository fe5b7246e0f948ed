// Package nbcmd runs nb: it builds the factory and command tree, runs the
// command with a context that Ctrl-C cancels, prints the error if any, and
// maps it to the exit code. It is the only place that does so.
package nbcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/boltfile"
	"github.com/nbctl/nb/pkg/cmd/root"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
)

// Main runs nb with the process's arguments and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, cmdutil.NewFactory(), os.Args[1:])
}

// Run runs nb with args and returns the exit code. A panic that reaches
// it (a bug) is one error line and exit 1, never a stack trace; NB_DEBUG=1
// lets it crash for a developer.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) (code int) {
	if os.Getenv("NB_DEBUG") != "1" {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintf(f.IOStreams.ErrOut, "error: internal error: %v (please report it; NB_DEBUG=1 shows where)\n", r)
				code = exitcode.Failed
			}
		}()
	}
	cmd := root.NewCmdRoot(f)
	cmd.SetArgs(args)
	cmd.SetIn(f.IOStreams.In)
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	executed, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return exitcode.OK
	}
	code = exitcode.Of(err)
	var silent *exitcode.SilentError
	switch {
	case errors.As(err, &silent):
	case code == exitcode.Interrupted:
		msg := strings.TrimSuffix(err.Error(), ": "+context.Canceled.Error())
		if msg == context.Canceled.Error() {
			msg = ""
		} else {
			msg = ": " + msg
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "interrupted%s\n", msg)
	default:
		fmt.Fprintf(f.IOStreams.ErrOut, "error: %s\n", err)
		if isFlagParseError(err) {
			fmt.Fprintf(f.IOStreams.ErrOut, "See '%s --help' for usage.\n", commandPath(executed))
		}
		var damaged *boltfile.DamagedError
		if errors.As(err, &damaged) {
			fmt.Fprintln(f.IOStreams.ErrOut, damagedHint(damaged.Path))
		}
	}
	return code
}

// isFlagParseError reports errors of cobra's own parsing (unknown flag,
// bad flag value), which do not name a fix by themselves.
func isFlagParseError(err error) bool {
	var u *exitcode.UsageError
	return errors.As(err, &u) && u.Flag == ""
}

// damagedHint says how to get back from a damaged state file.
func damagedHint(path string) string {
	if filepath.Base(path) == "buckets.db" {
		return `fix: "nb recover" moves it aside and rebuilds the bucket index from the stores (stop nb serve first)`
	}
	return "fix: " + path + " holds the stores, classes, claims and their Secrets, which nothing else keeps: restore it from a backup; the data under data/ is untouched"
}

func commandPath(c *cobra.Command) string {
	if c == nil {
		return "nb"
	}
	return c.CommandPath()
}
