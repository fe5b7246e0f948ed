// Package verify holds `nb verify`: prove that a bucket survives the loss
// of a store.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/fatih/color"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/apis/status"
	cmdresource "github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/table"
	"github.com/nbctl/nb/pkg/verify"
)

// Options are the inputs of `nb verify`.
type Options struct {
	IO         *iostreams.IOStreams
	Namespace  func() (string, error)
	Local      func() (*controlplane.ControlPlane, error)
	KubeClient func() (*kube.Client, error)
	Getenv     func(string) string
	ReadFile   func(string) ([]byte, error)

	Claim       string
	BucketClass string
	Size        string
	Seed        uint64
	File        string
	Fail        []string
	Keep        bool
	Output      string
	Endpoint    string
	CABundle    string
	Insecure    bool
	Disrupt     bool
	Settle      time.Duration
	BindTimeout time.Duration

	size int64
}

// NewCmdVerify returns `nb verify`.
func NewCmdVerify(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Namespace: f.Namespace, Local: f.Local, KubeClient: f.KubeClient, Getenv: f.Getenv, ReadFile: f.ReadFile}
	cmd := &cobra.Command{
		Use:   "verify [CLAIM]",
		Short: "Prove that a bucket survives the loss of a store",
		Long: heredoc.Doc(`
			Upload an object to a claim's bucket (or to a temporary bucket of a bucket class),
			make each of its stores really fail in turn, read the object back and compare its
			SHA-256 with what was written; then try a loss the placement policy does not promise
			to survive, which must end as data unavailable, never as wrong data.

			On the local target a pv-pool store fails by having its volume folders moved away,
			an S3 store by losing its network path; both are brought back after each read, also
			on Ctrl-C or error. While nb serve runs, the round trip goes through its S3 endpoint
			and the server fails the stores; two verifies of the same stores take turns.

			On a cluster nb talks to NooBaa's S3 endpoint with the claim's keys and predicts each
			single-store loss from the live bucket class and store phases; --disrupt drops each
			store from the bucket class in turn, reads back and restores the class. With
			--bucketclass nb creates a temporary claim (labelled nb.noobaa.io/verify), waits for
			it to be Bound, and deletes it afterwards unless --keep.

			verify checks the fresh object it writes: it proves the placement keeps new data
			safe, not that the copies of objects already stored are intact (a Mirror read uses
			one copy, so damage to another stays unseen until that copy is needed; a scrub reads
			every copy).

			Exit code 0 when the policy's promise held, 3 when data was unreadable or different
			where the policy promised it would survive.`),
		Example: heredoc.Doc(`
			# the walk-through: does federated-bucket survive losing any one of its stores?
			nb verify federated-bucket
			# a 1 GiB object, only failing pv1, as JSON for CI
			nb verify federated-bucket --size 1Gi --fail pv1 -o json
			# a temporary bucket of a class, with your own file
			nb verify --bucketclass mirror-class --file ./movie.mp4`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cmdresource.CompleteNames(f, kinds.ObjectBucketClaim),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Claim = args[0]
			}
			if err := opts.Complete(); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.BucketClass, "bucketclass", "", "verify a temporary bucket of this BucketClass instead of a claim's")
	_ = cmd.RegisterFlagCompletionFunc("bucketclass", cmdresource.CompleteFlagNames(f, kinds.BucketClass))
	fl.StringVar(&opts.Size, "size", "64Mi", "size of the generated test object (e.g. 64Mi, 3Gi)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "seed of the generated object: the same seed gives the same bytes")
	fl.StringVar(&opts.File, "file", "", "upload this file instead of a generated object")
	fl.StringSliceVar(&opts.Fail, "fail", nil, "fail only these stores, comma-separated (default: each store of the bucket)")
	_ = cmd.RegisterFlagCompletionFunc("fail", cmdresource.CompleteNamesList(f, kinds.BackingStore))
	fl.BoolVar(&opts.Keep, "keep", false, "keep the test object (and the temporary bucket or claim) afterwards")
	fl.StringVarP(&opts.Output, "output", "o", "", `output format: "" for a table and a verdict, or json`)
	fl.StringVar(&opts.Endpoint, "endpoint", "", "NooBaa's S3 URL (a cluster's, or nb serve's), instead of the claim's BUCKET_HOST:BUCKET_PORT (keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the noobaa-admin Secret, else the claim's)")
	fl.StringVar(&opts.CABundle, "ca-bundle", "", "a PEM file of CAs to trust for the S3 endpoint (a cluster's, or nb serve --tls-cert)")
	fl.BoolVar(&opts.Insecure, "insecure-skip-tls-verify", false, "do not verify the S3 endpoint's certificate (insecure)")
	fl.BoolVar(&opts.Disrupt, "disrupt", false, "cluster: drop each store from the bucket class in turn, read back, and restore the class")
	fl.DurationVar(&opts.BindTimeout, "timeout", verify.DefaultBindTimeout, "cluster, with --bucketclass: how long the temporary claim may take to be Bound")
	fl.DurationVar(&opts.Settle, "settle", 0, "cluster, with --disrupt: wait this long after the upload for NooBaa's mirroring to settle")
	return cmd
}

// Complete parses the flags' values.
func (o *Options) Complete() error {
	if o.File == "" {
		n, err := manifest.ByteSize(o.Size)
		if err != nil {
			return exitcode.Usagef("--size", "%v: use e.g. 64Mi or 3Gi", err)
		}
		o.size = n
	}
	return nil
}

// Validate checks the inputs before anything is touched.
func (o *Options) Validate() error {
	switch {
	case o.Claim == "" && o.BucketClass == "":
		return exitcode.Usagef("CLAIM", "name the claim to verify (nb verify CLAIM), or pass --bucketclass CLASS for a temporary bucket")
	case o.Claim != "" && o.BucketClass != "":
		return exitcode.Usagef("--bucketclass", "give either a CLAIM or --bucketclass, not both")
	case o.File == "" && o.size <= 0:
		return exitcode.Usagef("--size", "must be more than 0, e.g. 64Mi")
	case o.Output != "" && o.Output != "json":
		return exitcode.Usagef("--output", "%q is not supported: use json, or leave it out for a table", o.Output)
	}
	for _, s := range o.Fail {
		if strings.TrimSpace(s) == "" {
			return exitcode.Usagef("--fail", "empty store name: use --fail a,b")
		}
	}
	if o.File != "" {
		st, err := os.Stat(o.File)
		if err != nil {
			return exitcode.Usagef("--file", "%v", err)
		}
		if !st.Mode().IsRegular() {
			return exitcode.Usagef("--file", "%s is not a regular file", o.File)
		}
	}
	return nil
}

// Run verifies and prints the report (RunE has completed and validated
// the options first).
func (o *Options) Run(ctx context.Context) error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	cp, err := o.Local()
	if err != nil {
		return err
	}
	in := verify.Input{Claim: o.Claim, ClaimNamespace: ns, BucketClass: o.BucketClass, Namespace: ns,
		Size: o.size, Seed: o.Seed, Fail: o.Fail, Keep: o.Keep}
	if o.File != "" {
		f, err := os.Open(o.File)
		if err != nil {
			return exitcode.Usagef("--file", "%v", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		in.File, in.FileSize = f, st.Size()
	}
	if o.IO.IsStderrTTY() {
		in.Progress = func(r io.Reader, size int64) io.Reader {
			bar := progressbar.NewOptions64(size,
				progressbar.OptionSetWriter(o.IO.ErrOut), progressbar.OptionSetDescription("uploading"),
				progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100*time.Millisecond))
			rd := progressbar.NewReader(r, bar)
			return &rd
		}
	}
	in.OnCase = func(failed []string) {
		fmt.Fprintf(o.IO.ErrOut, "failing %s, reading back...\n", strings.Join(failed, " + "))
	}
	var rep *verify.Report
	if cp != nil {
		in.Track = func(l verify.Leftover) (func(), error) { return verify.Track(cp.Reconciler.DataDir, l) }
		in.LockStores = func(ctx context.Context, ns string, stores []string) (func(), error) {
			return cp.LockStores(ctx, ns, stores, func(store string) {
				fmt.Fprintf(o.IO.ErrOut, "waiting for another nb verify of store %s to finish...\n", store)
			})
		}
		if o.Disrupt {
			return exitcode.Usagef("--disrupt", "--disrupt is for a cluster; the local target fails stores for real by itself")
		}
		lease, derr := cp.Direct()
		if derr == nil && o.Endpoint != "" {
			lease.Release()
			return exitcode.Usagef("--endpoint", "on the local target --endpoint needs nb serve running: start it (nb serve), or leave --endpoint out to verify through the data path")
		}
		switch {
		case errors.Is(derr, controlplane.ErrServed):
			rep, err = o.runServed(ctx, cp, in)
		case derr != nil:
			return derr
		default:
			rep, err = verify.Local(ctx, cp, in)
			lease.Release()
		}
	} else {
		rep, err = o.runCluster(ctx, in)
	}
	if err != nil {
		if flag, ok := verify.IsUsage(err); ok {
			return exitcode.Usagef(flag, "%v", err)
		}
		return err
	}
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := o.printReport(rep); err != nil {
		return err
	}
	if !rep.OK {
		if o.Output == "json" {
			return &exitcode.RejectedError{Err: fmt.Errorf("%s", rep.Verdict)}
		}
		return &exitcode.SilentError{Code: exitcode.Rejected}
	}
	return nil
}

// runServed verifies through the running nb serve's S3 endpoint, as on a
// cluster, with the server failing the stores for real underneath.
func (o *Options) runServed(ctx context.Context, cp *controlplane.ControlPlane, in verify.Input) (*verify.Report, error) {
	info, ok := cp.Server()
	if !ok {
		return nil, errors.New("nb serve owns the state directory but publishes no endpoint: try again")
	}
	fmt.Fprintf(o.IO.ErrOut, "nb serve runs (pid %d): verifying through its S3 endpoint %s\n", info.PID, info.Endpoint)
	endpoint := info.Endpoint
	if o.Endpoint != "" {
		endpoint = o.Endpoint
	}
	in.StoreFree = cp.StoreFree
	ci := verify.ClusterInput{Input: in, Endpoint: endpoint, Insecure: o.Insecure, BindTimeout: o.BindTimeout,
		FailStores: cp.FailStores, Target: "local",
		OnWarning: func(msg string) { fmt.Fprintln(o.IO.ErrOut, "warning: "+msg) }}
	if o.CABundle != "" {
		var err error
		if ci.CABundle, err = o.ReadFile(o.CABundle); err != nil {
			return nil, exitcode.Usagef("--ca-bundle", "%v", err)
		}
	}
	return verify.Cluster(ctx, cp.Client(), ci)
}

func (o *Options) runCluster(ctx context.Context, in verify.Input) (*verify.Report, error) {
	client, err := o.KubeClient()
	if err != nil {
		return nil, err
	}
	last := ""
	ci := verify.ClusterInput{Input: in, Endpoint: o.Endpoint, Insecure: o.Insecure, Disrupt: o.Disrupt, Settle: o.Settle,
		BindTimeout: o.BindTimeout,
		OnProgress: func(p status.Progress) {
			if line := p.String(); line != last {
				last = line
				fmt.Fprintf(o.IO.ErrOut, "temporary claim: %s\n", line)
			}
		},
		InCluster: o.Getenv("KUBERNETES_SERVICE_HOST") != "",
		OnWarning: func(msg string) { fmt.Fprintln(o.IO.ErrOut, "warning: "+msg) }}
	if o.CABundle != "" {
		if ci.CABundle, err = o.ReadFile(o.CABundle); err != nil {
			return nil, exitcode.Usagef("--ca-bundle", "%v", err)
		}
	}
	if o.Insecure {
		fmt.Fprintln(o.IO.ErrOut, "warning: --insecure-skip-tls-verify: the S3 endpoint's certificate is not checked")
	}
	if o.Endpoint != "" {
		ci.AccessKey, ci.SecretKey = o.Getenv("AWS_ACCESS_KEY_ID"), o.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	return verify.Cluster(ctx, client, ci)
}

func (o *Options) printReport(rep *verify.Report) error {
	out := o.IO.Out
	what := "obc " + rep.Claim
	switch {
	case rep.TemporaryClaim:
		what = "temporary obc " + rep.Claim + " of bucketclass " + rep.BucketClass
	case rep.Claim == "":
		what = "a temporary bucket of bucketclass " + rep.BucketClass
	}
	fmt.Fprintf(out, "Verified %s (bucket %s): %s\n", what, rep.Bucket, rep.Policy)
	rate := ""
	if rep.UploadSeconds > 0 {
		rate = fmt.Sprintf(" at %s/s", human(float64(rep.Size)/rep.UploadSeconds))
	}
	fmt.Fprintf(out, "Object %s: %s, sha256 %s, uploaded in %.2fs%s\n\n", rep.Key, human(float64(rep.Size)), rep.SHA256, rep.UploadSeconds, rate)
	t := table.New(out, o.IO.IsStdoutTTY(), "FAILED", "TYPE", "FAILURE", "CHUNKS HELD", "PROMISED", "READ", "TIME")
	for _, c := range rep.Cases {
		promised := "no"
		if c.Promised {
			promised = "yes"
		}
		read := c.Result
		switch {
		case c.Result == verify.ResultIntact:
			read = "intact (sha256 matches)"
		case c.FirstDifference != nil:
			read = fmt.Sprintf("%s from byte %d", c.Result, *c.FirstDifference)
		}
		if !c.OK {
			read = o.IO.Color(color.FgRed, color.Bold).Sprint(read + " ✗")
		}
		failed := strings.Join(c.Failed, "+")
		if failed == "" {
			failed = "(none)"
		}
		t.Row(failed, strings.Join(c.Types, ","), c.How, fmt.Sprintf("%d/%d", c.ChunksHeld, c.Chunks), promised, read, fmt.Sprintf("%.2fs", c.Seconds))
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s\n", rep.Verdict)
	if o.IO.IsStdoutTTY() {
		fmt.Fprintln(o.IO.ErrOut, "(verify checks the object it wrote; the copies of objects already stored are a scrub's to check)")
	}
	if rep.Kept {
		fmt.Fprintf(out, "The test object was kept: %s/%s\n", rep.Bucket, rep.Key)
		if rep.TemporaryClaim {
			fmt.Fprintf(out, "So was its claim: delete it with \"nb obc delete %s\"\n", rep.Claim)
		}
	}
	return nil
}

func human(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	div, exp := float64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b/div, "KMGTPE"[exp])
}
