// Package serve holds `nb serve`: the local target's S3 endpoint.
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/pprof"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/care"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/server"
)

// Options are the inputs of `nb serve`.
type Options struct {
	IO    *iostreams.IOStreams
	Local func() (*controlplane.ControlPlane, error)

	Address string
	TLSCert string
	TLSKey  string
	// ScrubInterval and UploadExpiry tune background care (package care);
	// CareEvery how often it looks for work (hidden: tests).
	ScrubInterval time.Duration
	UploadExpiry  time.Duration
	CareEvery     time.Duration
	// CareRate bounds background care's reads per second (a quantity).
	CareRate string
	careRate int64
}

// NewCmdServe returns `nb serve`.
func NewCmdServe(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Local: f.Local}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the local target over S3, and keep reconciling it",
		Long: heredoc.Doc(`
			Run the local target as a system, in the foreground: an S3 endpoint for its buckets
			(each bound claim's key pair sees its own bucket; NooBaa's admin key pair, in the
			Secret noobaa-admin, sees every bucket and may create and delete buckets), and the
			operator's part played continuously. Stop it with Ctrl-C (or SIGTERM): uploads in
			flight are aborted and none of them becomes visible.

			In the background it keeps the data healthy: degraded objects are healed within about
			30 s of their store's return, every bucket is scrubbed every --scrub-interval (every
			block read and checked; what copies or parity can rebuild is repaired, what cannot is
			reported in the claim's events and nb bucket status), garbage is collected, multipart
			uploads older than --upload-expiry are aborted, and what a killed nb verify left is
			removed. nb bucket heal|scrub|gc runs the same on demand.

			While it runs, nb serve owns the state directory's data: every other nb command on the
			same directory keeps working and asks the server (nb verify makes its round trip
			through the endpoint). A second nb serve on the same directory exits at once.

			Get keys for a client with
			  eval "$(nb status -o env --show-secrets)"               # the admin's
			  eval "$(nb obc status CLAIM -o env --show-secrets)"     # a claim's`),
		Example: heredoc.Doc(`
			nb serve &
			eval "$(nb obc status federated-bucket -o env --show-secrets)"
			aws --endpoint-url "$AWS_ENDPOINT_URL" s3 ls "s3://$BUCKET_NAME"
			# https, on every interface
			nb serve --address 0.0.0.0:6443 --tls-cert tls.crt --tls-key tls.key`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
	fl.StringVar(&opts.Address, "address", server.DefaultAddress, "host:port the S3 endpoint listens on")
	fl.StringVar(&opts.TLSCert, "tls-cert", "", "serve https with this PEM certificate (with --tls-key)")
	fl.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	fl.DurationVar(&opts.ScrubInterval, "scrub-interval", care.DefaultScrubInterval, "scrub every bucket this often (0: never)")
	fl.DurationVar(&opts.UploadExpiry, "upload-expiry", care.DefaultUploadExpiry, "abort multipart uploads left incomplete this long (0: never)")
	fl.StringVar(&opts.CareRate, "care-rate", "64Mi", "bytes per second heal, scrub and rebalance may read in the background (0: unbounded)")
	fl.DurationVar(&opts.CareEvery, "care-every", 30*time.Second, "how often background care looks for work")
	_ = fl.MarkHidden("care-every")
	return cmd
}

// Validate checks the flags.
func (o *Options) Validate() error {
	host, port, err := net.SplitHostPort(o.Address)
	if err != nil || port == "" || port == "0" {
		return exitcode.Usagef("--address", "%q is not host:port with a port of its own: use e.g. 127.0.0.1:6001", o.Address)
	}
	_ = host
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return exitcode.Usagef("--tls-cert", "--tls-cert and --tls-key go together: give both for https, or neither")
	}
	if o.ScrubInterval < 0 {
		return exitcode.Usagef("--scrub-interval", "must not be negative (0: never scrub)")
	}
	if o.ScrubInterval > 0 && o.ScrubInterval < time.Minute {
		return exitcode.Usagef("--scrub-interval", "%s is too often: a scrub reads every block; use 1m or more (0: never)", o.ScrubInterval)
	}
	if o.UploadExpiry < 0 {
		return exitcode.Usagef("--upload-expiry", "must not be negative (0: never abort)")
	}
	if o.CareEvery <= 0 {
		return exitcode.Usagef("--care-every", "must be greater than zero")
	}
	n, err := manifest.ByteSize(o.CareRate)
	if err != nil {
		return exitcode.Usagef("--care-rate", "%v: use e.g. 64Mi (bytes per second), or 0 for unbounded", err)
	}
	o.careRate = n
	return nil
}

// Run serves until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	cp, err := o.Local()
	if err != nil {
		return err
	}
	if cp == nil {
		return exitcode.Usagef("--target", "nb serve runs the local target (on a cluster NooBaa's own endpoint serves S3): pass --target local")
	}
	// NB_SERVE_CPUPROFILE=FILE writes a CPU profile of the server's life
	// (bench/s3.sh PROFILE=1; docs/benchmarks.md).
	if path := os.Getenv("NB_SERVE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("NB_SERVE_CPUPROFILE: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("NB_SERVE_CPUPROFILE: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	err = server.Run(ctx, cp, server.Options{Address: o.Address, CertFile: o.TLSCert, KeyFile: o.TLSKey, Log: o.IO.ErrOut,
		ScrubInterval: o.ScrubInterval, UploadExpiry: o.UploadExpiry, CareEvery: o.CareEvery, CareRate: o.careRate}, nil)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
