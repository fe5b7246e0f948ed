// Package controlplane is nb's local target: the API objects in a state
// directory (pkg/localstate), served as a Kubernetes client, with the
// operator's part played in-process by pkg/reconciler. There is no daemon:
// nb reconciles once before it reads, and keeps reconciling while it
// waits, so that every command behaves as on a cluster.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nbctl/nb/pkg/crdschema"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/localstate"
	"github.com/nbctl/nb/pkg/outage"
	"github.com/nbctl/nb/pkg/reconciler"
)

// DefaultInterval is how often the control plane reconciles while nb
// waits.
const DefaultInterval = 200 * time.Millisecond

// ControlPlane is one state directory.
type ControlPlane struct {
	// Dir holds state.db (the objects) and data/ (pv-pool volumes and the
	// data path's metadata).
	Dir        string
	Objects    *localstate.DB
	Reconciler *reconciler.Reconciler
	Interval   time.Duration

	schemas *crdschema.Schemas
	mu      sync.Mutex // one pass at a time in this process
	// owner is set in the process that owns the data path (nb serve).
	owner *Ownership
}

// DefaultDir is where the local target keeps its state:
// $XDG_STATE_HOME/nb, else ~/.local/state/nb.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_STATE_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("XDG_STATE_HOME must be an absolute path, not %q", d)
		}
		return filepath.Join(d, "nb"), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory to keep the local state in (%v): pass --state-dir", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "state", "nb"), nil
}

// Open opens (creating) the state directory.
func Open(dir string) (*ControlPlane, error) { return OpenWith(dir, Options{}) }

// OpenWith opens the state directory, setting up a new one as opt says:
// NooBaa's admin Secret and, unless opted out, the default backing store
// and bucket class.
func OpenWith(dir string, opt Options) (*ControlPlane, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %q: %w", dir, err)
	}
	info, statErr := os.Stat(filepath.Join(abs, "state.db"))
	fresh := errors.Is(statErr, fs.ErrNotExist) || (statErr == nil && info.Size() == 0)
	if fresh {
		// No state but data: the state file was lost or emptied. Taking
		// the directory as new would hide every store and bucket and
		// set up defaults over the old volumes.
		if entries, err := os.ReadDir(filepath.Join(abs, "data")); err == nil && len(entries) > 0 {
			return nil, fmt.Errorf("%s is missing or empty, but %s holds the data of an earlier state (%d entries): "+
				"restore state.db from a backup; or, to start anew and leave that data alone, move %s away",
				filepath.Join(abs, "state.db"), filepath.Join(abs, "data"), len(entries), filepath.Join(abs, "data"))
		}
	}
	store, err := localstate.Open(abs)
	if err != nil {
		return nil, err
	}
	schemas, err := crdschema.Load()
	if err != nil {
		return nil, err
	}
	// A verify killed while a store was failed left its folder moved away.
	if err := outage.RestoreAbandoned(filepath.Join(abs, "data")); err != nil {
		return nil, fmt.Errorf("restoring stores a killed nb verify left failed: %w", err)
	}
	c := &ControlPlane{
		Dir:     abs,
		Objects: store,
		Reconciler: &reconciler.Reconciler{Objects: store, DataDir: filepath.Join(abs, "data"), BucketPort: DefaultBucketPort,
			AWSEndpoint: reconciler.AWSEndpoint(getenv(opt))},
		Interval: DefaultInterval,
		schemas:  schemas,
	}
	if fresh {
		if err := c.setUp(context.Background(), opt); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func getenv(opt Options) func(string) string {
	if opt.Getenv != nil {
		return opt.Getenv
	}
	return os.Getenv
}

// DefaultBucketPort is the port written to claims' BUCKET_PORT.
const DefaultBucketPort = 6001

// Client returns a Kubernetes client of the local state that reconciles
// as it reads and waits.
func (c *ControlPlane) Client() *kube.Client {
	cl := kube.NewDynamicClient(&localstate.Dynamic{Objects: c.Objects, Schemas: c.schemas}, "the local target ("+c.Dir+")")
	cl.Controller = c
	return cl
}

// Sync runs one reconcile pass: in this process, or, while nb serve owns
// the data path, in the server (which answers once its pass is done).
func (c *ControlPlane) Sync(ctx context.Context) error {
	lease, err := c.Direct()
	if errors.Is(err, ErrServed) {
		resp, err := c.callServer(ctx, http.MethodPost, "/v1/reconcile", nil)
		if err != nil {
			return fmt.Errorf("local control plane: %w", err)
		}
		resp.Body.Close()
		return nil
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	return Tolerable(c.Pass(ctx))
}

// Tolerable drops what a pass could not do for single objects (they are
// events on those objects): what remains fails the command.
func Tolerable(err error) error {
	var oe *reconciler.ObjectErrors
	if errors.As(err, &oe) {
		return nil
	}
	return err
}

// Pass runs one reconcile pass in this process; the caller holds the
// data path (Direct, or Own).
func (c *ControlPlane) Pass(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Reconciler.Pass(ctx); err != nil {
		return fmt.Errorf("local control plane: %w", err)
	}
	return nil
}

// Run reconciles every Interval until ctx ends. A failed pass is retried
// at the next tick; what it could not do shows in the objects' status.
func (c *ControlPlane) Run(ctx context.Context) {
	interval := c.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_ = c.Sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
