// Package recovery holds `nb recover`: rebuilding the local target's data
// path metadata (data/buckets.db) from the stores.
package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/table"
)

// Options are the inputs of `nb recover`.
type Options struct {
	IO     *iostreams.IOStreams
	Local  func() (*controlplane.ControlPlane, error)
	Output string
}

// NewCmdRecover returns `nb recover`.
func NewCmdRecover(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Local: f.Local}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Rebuild the local data path's bucket index from the stores",
		Long: heredoc.Doc(`
			Rebuild data/buckets.db, the local target's index of buckets and objects, from what
			the stores hold: every object's manifest is kept on each store that holds its blocks.

			A damaged buckets.db is moved aside (buckets.db.damaged-<time>) and a new one made;
			every bound claim's bucket is made again from the claim and its bucket class if it
			is missing; each bucket's objects are rebuilt from the manifests on its stores (the
			newest version of each key wins; deleted objects stay deleted). Run it when nb says
			buckets.db is damaged, or a claim's events say its bucket is missing.

			It needs the data path to itself: stop nb serve first. Other nb commands wait or
			fail while it runs. Buckets made over S3 by the admin account (not by a claim) are
			not rebuilt.`),
		Example: heredoc.Doc(`
			nb recover
			nb recover -o json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o := opts.Output; o != "" && o != "json" {
				return exitcode.Usagef("--output", "%q is not supported: use json, or leave it out for a table", o)
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", `output format: "" for a table, or json`)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run rebuilds the index and reports per claim.
func (o *Options) Run(ctx context.Context) error {
	cp, err := o.Local()
	if err != nil {
		return err
	}
	if cp == nil {
		return exitcode.Usagef("--target", "nb recover rebuilds the local target's data path; on a cluster NooBaa's core keeps its own metadata")
	}
	own, err := cp.Own(ctx, func() {
		fmt.Fprintln(o.IO.ErrOut, "waiting for other nb processes to finish with the data path...")
	})
	var served *controlplane.AlreadyServedError
	if errors.As(err, &served) {
		return fmt.Errorf("%w: stop it first, nb recover needs the data path to itself", err)
	}
	if err != nil {
		return err
	}
	defer own.Release()
	rep, err := cp.Reconciler.RecoverBuckets(ctx)
	if err != nil {
		return err
	}
	failed := 0
	for _, b := range rep.Buckets {
		if b.Error != "" {
			failed++
		}
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		if rep.MovedAside != "" {
			fmt.Fprintf(o.IO.ErrOut, "the damaged index was moved to %s\n", rep.MovedAside)
		}
		if len(rep.Buckets) == 0 {
			fmt.Fprintln(o.IO.ErrOut, "no bound claims: nothing to recover")
			return nil
		}
		t := table.New(o.IO.Out, o.IO.IsStdoutTTY(), "CLAIM", "BUCKET", "CLASS", "RECORD", "SCANNED", "RESTORED", "REMOVED", "SKIPPED", "PROBLEM")
		for _, b := range rep.Buckets {
			record := "kept"
			if b.Recreated {
				record = "made again"
			}
			problem := b.Error
			if problem == "" && len(b.Unreadable) > 0 {
				problem = fmt.Sprintf("unreadable stores: %v", b.Unreadable)
			}
			t.Row(b.Claim, b.Bucket, b.Class, record, fmt.Sprint(b.Scanned), fmt.Sprint(b.Restored), fmt.Sprint(b.Removed), fmt.Sprint(b.Skipped), problem)
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &exitcode.RejectedError{Err: fmt.Errorf("%d of %d buckets could not be recovered", failed, len(rep.Buckets))}
	}
	return nil
}
