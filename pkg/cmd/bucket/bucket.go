// Package bucket holds `nb bucket`: the local target's buckets, their
// health, and heal, scrub and garbage collection on demand.
package bucket

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/care"
	cmdresource "github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/table"
	"github.com/nbctl/nb/pkg/verify"
)

// Options are the inputs shared by the bucket commands.
type Options struct {
	IO        *iostreams.IOStreams
	Local     func() (*controlplane.ControlPlane, error)
	Namespace func() (string, error)
	Output    string
	Now       func() time.Time
}

// NewCmdBucket returns `nb bucket`.
func NewCmdBucket(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bucket",
		Aliases: []string{"buckets"},
		Short:   "The local target's buckets: health, heal, scrub and garbage collection",
		Long: heredoc.Doc(`
			The buckets of the local target's data path, with their health (objects, size, room
			left in their class, resiliency and the last heal and scrub), and the care nb serve
			gives them in the background, on demand: heal re-creates the copies and shards that
			degraded objects lack once their stores are back; scrub reads every block, repairs
			what copies or parity can rebuild and reports what cannot; gc deletes the blocks of
			deleted and replaced versions, aborts abandoned multipart uploads and removes what a
			killed nb verify left.

			A bucket is named by its claim (in -n NAMESPACE) or by its own name. On a cluster
			NooBaa's core does all of this itself.`),
	}
	cmdutil.SubcommandRequired(cmd)
	cmd.AddCommand(newCmdList(f), newCmdStatus(f))
	for _, k := range []struct{ kind, short string }{
		{care.Heal, "Re-create the copies and shards degraded objects lack"},
		{care.Scrub, "Read and verify every block; repair what can be rebuilt, report what cannot"},
		{care.GC, "Delete the blocks of deleted and replaced versions, abandoned uploads and what killed verifies left"},
		{care.Rebalance, "Move the objects a bucket class change left to where the class now places data"},
	} {
		cmd.AddCommand(newCmdCare(f, k.kind, k.short))
	}
	return cmd
}

func newOptions(f *cmdutil.Factory) *Options {
	return &Options{IO: f.IOStreams, Local: f.Local, Namespace: f.Namespace, Now: time.Now}
}

func (o *Options) local() (*controlplane.ControlPlane, error) {
	cp, err := o.Local()
	if err != nil {
		return nil, err
	}
	if cp == nil {
		return nil, exitcode.Usagef("--target", "nb bucket is for the local target: on a cluster NooBaa's core keeps its buckets healthy (see nb obc status)")
	}
	return cp, nil
}

func checkOutput(o string) error {
	if o != "" && o != "json" {
		return exitcode.Usagef("--output", "%q is not supported: use json, or leave it out for a table", o)
	}
	return nil
}

func (o *Options) json(v any) error {
	enc := json.NewEncoder(o.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newCmdList(f *cmdutil.Factory) *cobra.Command {
	o := newOptions(f)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the buckets with their claim, class, objects, size and resiliency",
		Args:  cmdutil.ExactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			cp, err := o.local()
			if err != nil {
				return err
			}
			all, err := cp.BucketStatuses(cmd.Context())
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return o.json(all)
			}
			if len(all) == 0 {
				fmt.Fprintln(o.IO.ErrOut, "No buckets found.")
				return nil
			}
			tty := o.IO.IsStdoutTTY()
			t := table.New(o.IO.Out, tty, "NAME", "CLAIM", "CLASS", "OBJECTS", "SIZE", "DEGRADED", "FREE", "LAST SCRUB")
			for _, st := range all {
				free := "unbounded"
				if st.FreeKnown {
					free = manifest.FormatBytes(st.Free)
				}
				scrub := "never"
				if s := st.Care.Scrub; s != nil {
					scrub = cmdresource.Age(s.Finished, o.Now(), tty)
					if s.LostCount > 0 {
						scrub += fmt.Sprintf(" (%d lost)", s.LostCount)
					}
				}
				claim := st.Claim
				if claim == "" {
					claim = "(made over S3)"
				}
				t.Row(st.Name, claim, st.Class, fmt.Sprint(st.Objects), manifest.FormatBytes(st.Bytes), fmt.Sprint(st.Degraded), free, scrub)
			}
			return t.Render()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", `output format: "" for a table, or json`)
	return cmd
}

func newCmdStatus(f *cmdutil.Factory) *cobra.Command {
	o := newOptions(f)
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a bucket's health: objects, size, free space, resiliency, last heal and scrub",
		Args:  cmdutil.ExactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			cp, err := o.local()
			if err != nil {
				return err
			}
			st, err := o.find(cmd.Context(), cp, args[0])
			if err != nil {
				return err
			}
			if o.Output == "json" {
				return o.json(st)
			}
			if st.Claim != "" {
				fmt.Fprintf(o.IO.Out, "Claim: %s\n", st.Claim)
			}
			fmt.Fprintln(o.IO.Out, "Bucket status:")
			cmdresource.PrintBucketHealth(o.IO.Out, st, "", 0, o.Now(), o.IO.IsStdoutTTY())
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", `output format: "" for a summary, or json`)
	return cmd
}

// find picks a bucket by its claim's name (in -n) or its own.
func (o *Options) find(ctx context.Context, cp *controlplane.ControlPlane, name string) (care.Status, error) {
	ns, err := o.Namespace()
	if err != nil {
		return care.Status{}, err
	}
	all, err := cp.BucketStatuses(ctx)
	if err != nil {
		return care.Status{}, err
	}
	for _, st := range all {
		if st.Claim == ns+"/"+name {
			return st, nil
		}
	}
	for _, st := range all {
		if st.Name == name {
			return st, nil
		}
	}
	return care.Status{}, fmt.Errorf("no claim %q in namespace %q and no bucket %q: list them with \"nb bucket list\"", name, ns, name)
}

func newCmdCare(f *cmdutil.Factory, kind, short string) *cobra.Command {
	o := newOptions(f)
	var all bool
	uploadAge := care.DefaultUploadExpiry
	cmd := &cobra.Command{
		Use:   kind + " [NAME | --all]",
		Short: short,
		Example: heredoc.Docf(`
			nb bucket %[1]s my-claim
			nb bucket %[1]s --all -o json`, kind),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(o.Output); err != nil {
				return err
			}
			switch {
			case len(args) == 0 && !all:
				return exitcode.Usagef("NAME", "name a claim or bucket (nb bucket %s NAME), or pass --all", kind)
			case len(args) == 1 && all:
				return exitcode.Usagef("--all", "give either NAME or --all, not both")
			case len(args) == 1 && strings.TrimSpace(args[0]) == "":
				return exitcode.Usagef("NAME", "NAME is empty")
			}
			if uploadAge < 0 {
				return exitcode.Usagef("--upload-expiry", "must not be negative (0: keep incomplete uploads)")
			}
			cp, err := o.local()
			if err != nil {
				return err
			}
			return o.runCare(cmd.Context(), cp, kind, args, uploadAge)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every bucket of the local target")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", `output format: "" for a summary, or json`)
	if kind == care.GC {
		cmd.Flags().DurationVar(&uploadAge, "upload-expiry", uploadAge, "abort multipart uploads initiated longer ago than this (0: keep them)")
	}
	return cmd
}

func (o *Options) runCare(ctx context.Context, cp *controlplane.ControlPlane, kind string, args []string, uploadAge time.Duration) error {
	var buckets []string
	if len(args) == 1 {
		st, err := o.find(ctx, cp, args[0])
		if err != nil {
			return err
		}
		buckets = []string{st.Name}
	}
	if kind == care.GC {
		if _, served := cp.Server(); !served {
			if lease, err := cp.Direct(); err == nil {
				err = verify.CleanLeftovers(ctx, cp.Reconciler)
				lease.Release()
				if err != nil {
					fmt.Fprintf(o.IO.ErrOut, "warning: %v\n", err)
				}
			}
		}
	}
	var bar *progressbar.ProgressBar
	var barBucket string
	var progress func(bucket string, done, total int)
	if o.IO.IsStderrTTY() && kind != care.GC {
		progress = func(bucket string, done, total int) {
			if bar == nil || bucket != barBucket {
				if bar != nil {
					_ = bar.Finish()
				}
				barBucket = bucket
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(o.IO.ErrOut),
					progressbar.OptionSetDescription(kind+" "+bucket), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
			}
			_ = bar.Set(done)
		}
	}
	reps, err := cp.Care(ctx, kind, buckets, uploadAge, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	if o.Output == "json" {
		if jerr := o.json(reps); jerr != nil {
			return jerr
		}
	} else {
		for _, r := range reps {
			o.summary(r)
		}
	}
	if err != nil {
		return err
	}
	lost := 0
	for _, r := range reps {
		lost += len(r.RepairReport.Lost)
		if r.Rebalance != nil && len(r.Rebalance.Unreadable) > 0 {
			return &exitcode.RejectedError{Err: fmt.Errorf("%d object(s) could not be moved: they stay where they are; bring their stores back and run it again", len(r.Rebalance.Unreadable))}
		}
	}
	if lost > 0 {
		return &exitcode.RejectedError{Err: fmt.Errorf("%d object(s) could not be rebuilt: their data is lost unless a store that is down comes back", lost)}
	}
	return nil
}

func (o *Options) summary(r care.Report) {
	w := o.IO.Out
	name := r.Bucket.Name
	if r.Bucket.Claim != "" {
		name += " (claim " + r.Bucket.Claim + ")"
	}
	switch r.Kind {
	case care.Rebalance:
		rb := r.Rebalance
		if rb == nil {
			return
		}
		fmt.Fprintf(w, "%s: %d object(s): %d moved, %d placed already, %d changed meanwhile, %d could not be read\n", name, rb.Objects, rb.Moved, rb.Placed, rb.Skipped, len(rb.Unreadable))
		for _, u := range rb.Unreadable {
			fmt.Fprintf(w, "  not moved: %s\n", u)
		}
	case care.GC:
		fmt.Fprintf(w, "%s: garbage collected", name)
		if r.AbortedUploads > 0 {
			fmt.Fprintf(w, ", %d abandoned upload(s) aborted", r.AbortedUploads)
		}
		fmt.Fprintln(w)
	default:
		fmt.Fprintf(w, "%s: %d object(s), %d block(s) checked, %d repaired, %d still missing (store down), %d healed, %d lost\n",
			name, r.Objects, r.BlocksChecked, r.Repaired, r.Missing, len(r.Healed), len(r.RepairReport.Lost))
		for _, l := range r.RepairReport.Lost {
			fmt.Fprintf(w, "  lost: %s\n", l)
		}
	}
}
