package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/outage"
	"github.com/nbctl/nb/pkg/placement"
)

// Input is what to verify and with which object.
type Input struct {
	// Claim (in ClaimNamespace) or BucketClass (in Namespace, for a
	// temporary bucket): one of them.
	Claim          string
	ClaimNamespace string
	BucketClass    string
	Namespace      string
	// Object: Size bytes generated from Seed, or the content of File
	// (FileSize bytes).
	Size     int64
	Seed     uint64
	File     io.Reader
	FileSize int64
	// Fail limits the stores made to fail (default: every store).
	Fail []string
	Keep bool
	// Progress wraps the upload's reader (a progress bar); nil: none.
	Progress func(r io.Reader, size int64) io.Reader
	// OnCase is called as each case starts (for a live log).
	OnCase func(failed []string)
	// LockStores, when set, holds the bucket's stores for the whole run,
	// so that no other verify fails them meanwhile.
	LockStores func(ctx context.Context, ns string, stores []string) (release func(), err error)
	// StoreFree, when set, reports the free space of stores (bytes, -1
	// unknown) for a cluster-route verify of the local target (nb serve
	// owns the stores); the local route asks its engine.
	StoreFree func(ctx context.Context, ns string, stores []string) (map[string]int64, error)
	// Track, when set, records what verify creates until done is called,
	// so that what a killed verify left can be removed (CleanLeftovers).
	Track func(l Leftover) (done func(), err error)
}

// Local verifies a bucket of the local target through the embedded data
// path, failing pv-pool stores by moving their volumes away and S3 stores
// by pointing the data path at an address where nothing listens.
func Local(ctx context.Context, cp *controlplane.ControlPlane, in Input) (*Report, error) {
	if err := cp.Sync(ctx); err != nil {
		return nil, err
	}
	c := cp.Client()
	c.Controller = nil // the pass above brought the state in line: reads need no pass each
	sub, err := resolve(ctx, c, in)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: "local", Claim: in.Claim, BucketClass: sub.className}
	ns, bucket, pol := sub.namespace, sub.bucket, sub.policy
	eng, unopened, err := cp.Reconciler.OpenEngine(ctx, ns)
	if err != nil {
		return nil, err
	}
	temporary := false
	if sub.claim != nil {
		// The object goes where the bucket's record places it (the
		// reconciler keeps it in line with the class).
		rec, err := eng.Meta.Bucket(bucket)
		if err != nil {
			return nil, fmt.Errorf("obc %q: bucket %q: %w", in.Claim, bucket, err)
		}
		pol = rec.Policy
	} else {
		bucket = "nb-verify-" + uuid.NewString()[:8]
		if in.Track != nil {
			done, err := in.Track(Leftover{Namespace: ns, Bucket: bucket, TemporaryBucket: true})
			if err != nil {
				return nil, err
			}
			defer done() // after the cleanup below, deferred later
		}
		if err := eng.Meta.PutBucket(placement.Bucket{Name: bucket, Policy: pol, Created: time.Now().UTC(), Class: sub.className}); err != nil {
			return nil, err
		}
		temporary = true
	}
	rep.Bucket, rep.Policy = bucket, pol.String()
	if in.LockStores != nil {
		release, err := in.LockStores(ctx, ns, Stores(pol))
		if err != nil {
			if temporary {
				_ = eng.DeleteBucket(context.WithoutCancel(ctx), bucket)
			}
			return nil, err
		}
		defer release()
	}
	for _, s := range Stores(pol) {
		if err := unopened[s]; err != nil {
			return nil, fmt.Errorf("backing store %q of the bucket cannot be used: %v", s, err)
		}
	}
	if err := checkInput(in, pol, rep.BucketClass, eng.StoreFree(ctx, Stores(pol))); err != nil {
		if temporary {
			_ = eng.DeleteBucket(context.WithoutCancel(ctx), bucket)
		}
		return nil, err
	}
	// From here on, what verify creates is removed again unless --keep,
	// also on error or Ctrl-C.
	cleanCtx := context.WithoutCancel(ctx)
	rep.Key = testKey()
	if in.Track != nil && !temporary {
		done, err := in.Track(Leftover{Namespace: ns, Bucket: bucket, Key: rep.Key})
		if err != nil {
			return nil, err
		}
		defer done()
	}
	defer func() {
		if in.Keep {
			rep.Kept = true
			return
		}
		if temporary {
			_ = eng.DeleteBucket(cleanCtx, bucket)
		} else if _, err := eng.Meta.Get(bucket, rep.Key); err == nil {
			_ = eng.Delete(cleanCtx, bucket, rep.Key)
		}
	}()

	// Upload, hashing the pieces on the way (the whole object's SHA-256 is
	// the engine's, taken from the same stream).
	src, _ := in.source()
	h := NewHasher()
	start := time.Now()
	man, err := eng.Put(ctx, bucket, rep.Key, pol, io.TeeReader(src, h))
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	rep.UploadSeconds = time.Since(start).Seconds()
	rep.Size, rep.SHA256 = h.N(), man.SHA256
	up := upload{sha256: man.SHA256, size: h.N(), digests: h.Digests()}
	if man.Degraded {
		return nil, fmt.Errorf("upload: the object was written degraded (a store was down): fix the stores first")
	}

	// Each failure set: fail the stores, read back, restore.
	byName, err := storeObjects(ctx, c, ns, pol)
	if err != nil {
		return nil, err
	}
	for _, set := range FailureSets(pol, in.Fail) {
		if in.OnCase != nil {
			in.OnCase(set)
		}
		c, err := runCase(ctx, cp, eng, byName, man, pol, set, up)
		if err != nil {
			return rep, err
		}
		rep.Cases = append(rep.Cases, c)
	}
	rep.Conclude()
	return rep, nil
}

// runCase fails the stores of one set, reads the object and restores them.
func runCase(ctx context.Context, cp *controlplane.ControlPlane, eng *placement.Engine, byName map[string]*unstructured.Unstructured,
	man *placement.Manifest, pol placement.Policy, set []string, up upload) (c Case, err error) {
	failed := map[string]bool{}
	for _, s := range set {
		failed[s] = true
	}
	c = Case{Failed: set, Chunks: len(man.Chunks), Promised: pol.Promise(failed), Predicted: man.ReadableWithout(failed)}
	for _, ch := range man.Chunks {
		for _, b := range ch.Blocks {
			if failed[b.Store] {
				c.ChunksHeld++
				break
			}
		}
	}
	var objs []*unstructured.Unstructured
	for _, name := range set {
		obj := byName[name]
		typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
		c.Types = append(c.Types, typ)
		objs = append(objs, obj)
	}
	restore, how, err := outage.FailStores(ctx, cp.Reconciler, objs)
	if err != nil {
		return c, err
	}
	defer func() {
		if rerr := restore(); rerr != nil && err == nil {
			err = fmt.Errorf("bringing a store back: %w", rerr)
		}
	}()
	c.How = how
	h := NewHasher()
	start := time.Now()
	// From the devices, not from memory: the page cache might still hold
	// what a store lost.
	_, rerr := eng.ReadManifestUncached(ctx, man, h)
	c.Seconds = time.Since(start).Seconds()
	switch {
	case ctx.Err() != nil:
		return c, ctx.Err()
	case rerr != nil:
		c.Result, c.Error = ResultUnavailable, rerr.Error()
		if !errors.Is(rerr, placement.ErrUnreadable) && !errors.Is(rerr, blockstore.ErrUnavailable) {
			c.Error = "read failed: " + rerr.Error()
		}
	default:
		c.compare(h, up)
	}
	c.Judge()
	return c, nil
}

func orNone(phase string) string {
	if phase == "" {
		return "not yet reconciled"
	}
	return phase
}

// checkInput checks what can be checked only once the bucket's policy is
// known: the stores named by --fail, and room for the test object (the
// stores' free space, as Policy.Free counts it).
func checkInput(in Input, pol placement.Policy, class string, free map[string]int64) error {
	for _, s := range in.Fail {
		if !slices.Contains(Stores(pol), s) {
			return &usageErr{"--fail", fmt.Sprintf("store %q is not one of the bucket's (%s)", s, strings.Join(Stores(pol), ", "))}
		}
	}
	_, size := in.source()
	if room, known := pol.Free(free); known && size > room {
		return &usageErr{"--size", fmt.Sprintf("%s do not fit: the stores of bucket class %q have room for %s more (%s): choose a smaller --size",
			manifest.FormatBytes(size), class, manifest.FormatBytes(room), pol)}
	}
	return nil
}

// usageErr is an input problem found only once the bucket is known.
type usageErr struct{ flag, msg string }

func (e *usageErr) Error() string { return e.msg }

// IsUsage reports whether err is an input problem (exit code 2), and the
// flag at fault.
func IsUsage(err error) (flag string, ok bool) {
	var u *usageErr
	if errors.As(err, &u) {
		return u.flag, true
	}
	return "", false
}
