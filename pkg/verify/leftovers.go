package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/placement"
	"github.com/nbctl/nb/pkg/process"
	"github.com/nbctl/nb/pkg/reconciler"
)

// A verify on the local target records what it creates (its test object,
// temporary bucket or temporary claim) in data/.verify/ while it runs, so
// that what a killed verify left is found and removed (CleanLeftovers):
// measured before, a SIGKILLed `nb verify c1 --size 512Mi` left 1.07 GB
// on disk for good.
const leftoverDir = ".verify"

// Leftover is what one running verify created.
type Leftover struct {
	PID       int    `json:"pid"`
	Namespace string `json:"namespace"` // NooBaa's, whose data path holds Bucket
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	// TemporaryBucket: Bucket itself is verify's (local route).
	TemporaryBucket bool `json:"temporaryBucket,omitempty"`
	// Claim is a temporary claim "namespace/name" (served route).
	Claim string `json:"claim,omitempty"`
}

// Track records l under dataDir until done is called (after verify's own
// cleanup, or when it keeps what it made on purpose).
func Track(dataDir string, l Leftover) (done func(), err error) {
	dir := filepath.Join(dataDir, leftoverDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("record verify's objects: %w", err)
	}
	l.PID = os.Getpid()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	path := filepath.Join(dir, fmt.Sprintf("%d-%s.json", l.PID, hex.EncodeToString(rnd[:])))
	raw, err := json.Marshal(l)
	if err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return nil, fmt.Errorf("record verify's objects: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("record verify's objects: %w", err)
	}
	return func() { _ = os.Remove(path) }, nil
}

// CleanLeftovers removes what verifies that died left: their test
// objects, temporary buckets and temporary claims. A record of a live
// process is left alone.
func CleanLeftovers(ctx context.Context, r *reconciler.Reconciler) error {
	dir := filepath.Join(r.DataDir, leftoverDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				pid := strings.SplitN(e.Name(), "-", 2)[0]
				if n := atoi(pid); n > 0 && !process.Alive(n) {
					_ = os.Remove(path)
				}
			}
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var l Leftover
		if err := json.Unmarshal(raw, &l); err != nil || l.PID <= 0 {
			_ = os.Remove(path) // not ours to read: nothing to clean by it
			continue
		}
		if process.Alive(l.PID) {
			continue
		}
		if err := cleanLeftover(ctx, r, l); err != nil {
			errs = append(errs, fmt.Errorf("what a killed nb verify (pid %d) left: %w", l.PID, err))
			continue
		}
		_ = os.Remove(path)
	}
	return errors.Join(errs...)
}

func cleanLeftover(ctx context.Context, r *reconciler.Reconciler, l Leftover) error {
	if l.Claim != "" {
		ns, name, _ := strings.Cut(l.Claim, "/")
		claim, err := r.Objects.Get(ctx, obv1.ObjectBucketClaimGVR, ns, name)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if claim.GetLabels()[LabelVerify] == "" {
			return nil // not a verify's claim (a name reused since): leave it
		}
		err = r.Objects.Delete(ctx, obv1.ObjectBucketClaimGVR, ns, name, string(claim.GetUID()))
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if l.Bucket == "" {
		return nil
	}
	eng, _, err := r.OpenEngineCached(ctx, l.Namespace)
	if err != nil {
		return err
	}
	if l.TemporaryBucket {
		err := eng.DeleteBucket(ctx, l.Bucket)
		if errors.Is(err, placement.ErrNoBucket) {
			return nil
		}
		return err
	}
	if l.Key == "" {
		return nil
	}
	if _, err := eng.Meta.Get(l.Bucket, l.Key); errors.Is(err, placement.ErrNoObject) || errors.Is(err, placement.ErrNoBucket) {
		return nil
	}
	return eng.Delete(ctx, l.Bucket, l.Key)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
