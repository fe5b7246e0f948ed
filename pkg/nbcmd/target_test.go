package nbcmd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/internal/versitygw"
	"github.com/nbctl/nb/pkg/iostreams"
)

// localNB runs nb exactly as the binary does (root flags, target
// selection, the control plane reconciling in-process) on the local
// target in a state directory of its own.
type localNB struct {
	dir string
}

func newLocalNB(t *testing.T) *localNB {
	t.Helper()
	return &localNB{dir: filepath.Join(t.TempDir(), "state")}
}

func (l *localNB) run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    func(k string) string { return env[k] },
		ReadFile:  os.ReadFile,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, f, append(args, "--target", "local", "--state-dir", l.dir))
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func (l *localNB) ok(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	r := l.run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("nb %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func TestLocalWalkThrough(t *testing.T) {
	l := newLocalNB(t)
	r := l.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "2", "--pv-size-gb", "16")
	if !strings.HasPrefix(r.stderr, "nb: local target, state in "+l.dir+"\n") || !strings.Contains(r.stderr, "is Ready [OPTIMAL]") {
		t.Errorf("create pv1 stderr:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "data", "noobaa", "pv1")); err != nil {
		t.Errorf("pv-pool volumes: %v", err)
	}
	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv2", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "mirror", "--placement", "Mirror", "--backingstores", "pv1,pv2")
	r = l.ok(t, nil, "obc", "create", "photos", "--bucketclass", "mirror", "--app-namespace", "apps")
	for _, w := range []string{"BUCKET_NAME", "photos-", "BUCKET_HOST", "AWS_ACCESS_KEY_ID"} {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("obc create output lacks %q:\n%s%s", w, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "AWS_SECRET_ACCESS_KEY\t") && !strings.Contains(r.stdout, "********") {
		t.Errorf("the secret key was printed without --show-secrets:\n%s", r.stdout)
	}

	r = l.ok(t, nil, "backingstore", "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	// A new state directory has NooBaa's default store, as an install does.
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "noobaa-default-backing-store\tpv-pool\tReady\tOPTIMAL") ||
		!strings.HasPrefix(lines[1], "pv1\tpv-pool\tReady\tOPTIMAL") || !strings.HasPrefix(lines[2], "pv2\tpv-pool\tReady\tOPTIMAL") {
		t.Errorf("backingstore list:\n%s", r.stdout)
	}
	r = l.ok(t, nil, "bucketclass", "status", "mirror")
	if !strings.Contains(r.stdout, "Ready") {
		t.Errorf("bucketclass status:\n%s", r.stdout)
	}
	r = l.ok(t, nil, "obc", "status", "photos", "-n", "apps", "-o", "env", "--show-secrets")
	if !strings.Contains(r.stdout, "export AWS_SECRET_ACCESS_KEY=") || !strings.Contains(r.stdout, "export BUCKET_NAME='photos-") {
		t.Errorf("obc status -o env:\n%s", r.stdout)
	}

	// A store a bucket uses cannot go; its class cannot either.
	r = l.run(t, nil, "backingstore", "delete", "pv1")
	if r.code != 1 || !strings.Contains(r.stderr, `used by bucketclass "mirror"`) {
		t.Errorf("delete of a store in use: %+v", r)
	}
	r = l.run(t, nil, "bucketclass", "delete", "mirror")
	if r.code != 1 || !strings.Contains(r.stderr, `obc apps/photos`) {
		t.Errorf("delete of a class in use: %+v", r)
	}
	r = l.run(t, nil, "backingstore", "delete", "pv1", "--force", "--timeout", "2s")
	if r.code != 4 || !strings.Contains(r.stderr, "BackingStoreInUse") || !strings.Contains(r.stderr, "obc-apps-photos") {
		t.Errorf("forced delete of a store a bucket uses: %+v", r)
	}

	// Deleting the claim deletes the bucket; then the store and the
	// class can go, and the store's volumes with it.
	l.ok(t, nil, "obc", "delete", "photos", "-n", "apps")
	r = l.ok(t, nil, "obc", "list", "-A")
	if strings.Contains(r.stdout, "photos") {
		t.Errorf("claim still listed:\n%s", r.stdout)
	}
	r = l.ok(t, nil, "backingstore", "list")
	if strings.Contains(r.stdout, "pv1") {
		t.Errorf("the store whose deletion waited for the bucket is still there:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(l.dir, "data", "noobaa", "pv1")); !os.IsNotExist(err) {
		t.Errorf("pv1's volumes outlived it: %v", err)
	}
	l.ok(t, nil, "bucketclass", "delete", "mirror")
	l.ok(t, nil, "backingstore", "delete", "pv2")
	r = l.ok(t, nil, "backingstore", "list")
	if strings.TrimSpace(r.stdout) != "" && !strings.HasPrefix(r.stdout, "noobaa-default-backing-store\t") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stores left:\n%s", r.stdout)
	}
}

func TestLocalUnsupportedStoresAreRejectedWithGuidance(t *testing.T) {
	l := newLocalNB(t)
	r := l.run(t, map[string]string{"AZURE_STORAGE_ACCOUNT": "acct", "AZURE_STORAGE_KEY": "key"},
		"backingstore", "create", "azure-blob", "az1", "--target-blob-container", "container1", "--timeout", "20s")
	if r.code != 3 || !strings.Contains(r.stderr, "LocalTargetUnsupported") || !strings.Contains(r.stderr, "s3-compatible") {
		t.Errorf("azure-blob: %+v", r)
	}
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "bc1", "--backingstores", "az1", "--wait=false")
	r = l.run(t, nil, "obc", "create", "c1", "--bucketclass", "bc1", "--timeout", "2s")
	if r.code != 4 || !strings.Contains(r.stderr, "BucketClassNotReady") {
		t.Errorf("claim of a rejected class: %+v", r)
	}
}

func TestLocalS3CompatibleStoresAgainstVersitygw(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "target")
	good := map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey}
	wrong := map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
	l := newLocalNB(t)

	r := l.ok(t, good, "backingstore", "create", "s3-compatible", "s3ok", "--endpoint", srv.Endpoint, "--target-bucket", "target")
	if !strings.Contains(r.stderr, "is Ready [OPTIMAL]") {
		t.Errorf("good store:\n%s", r.stderr)
	}
	r = l.run(t, wrong, "backingstore", "create", "s3-compatible", "s3auth", "--endpoint", srv.Endpoint, "--target-bucket", "target")
	if r.code != 3 || !strings.Contains(r.stderr, "AUTH_FAILED") {
		t.Errorf("wrong secret: %+v", r)
	}
	r = l.run(t, good, "backingstore", "create", "s3-compatible", "s3nobucket", "--endpoint", srv.Endpoint, "--target-bucket", "no-such-bucket")
	if r.code != 3 || !strings.Contains(r.stderr, "STORAGE_NOT_EXIST") || !strings.Contains(r.stderr, "no-such-bucket") {
		t.Errorf("missing bucket: %+v", r)
	}
	r = l.ok(t, nil, "backingstore", "list")
	for _, w := range []string{"s3auth\ts3-compatible\tRejected\tAUTH_FAILED", "s3nobucket\ts3-compatible\tRejected\tSTORAGE_NOT_EXIST", "s3ok\ts3-compatible\tReady\tOPTIMAL"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("list lacks %q:\n%s", w, r.stdout)
		}
	}

	// A Mirror over a pv-pool and the S3 store binds a claim.
	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "hybrid", "--placement", "Mirror", "--backingstores", "pv1,s3ok")
	l.ok(t, nil, "obc", "create", "c1", "--bucketclass", "hybrid")
}

// TestLocalConcurrentProcessesLoseNothing runs 8 nb processes at once on
// one state directory, each creating three pv-pool stores (waiting for
// them, so 8 reconcilers run side by side) and deleting one.
func TestLocalConcurrentProcessesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 32 processes")
	}
	dir := filepath.Join(t.TempDir(), "state")
	nb := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append(args, "--target", "local", "--state-dir", dir)...)
		cmd.Env = append(os.Environ(), "NB_TEST_BINARY_IS_NB=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; s < 3; s++ {
				if out, err := nb("backingstore", "create", "pv-pool", fmt.Sprintf("p%d-s%d", p, s), "--num-volumes", "1", "--pv-size-gb", "16", "--timeout", "60s"); err != nil {
					errs <- fmt.Errorf("process %d store %d: %v\n%s", p, s, err, out)
					return
				}
			}
			if out, err := nb("backingstore", "delete", fmt.Sprintf("p%d-s1", p), "--timeout", "60s"); err != nil {
				errs <- fmt.Errorf("process %d delete: %v\n%s", p, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	out, err := nb("backingstore", "list", "-o", "name")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "backingstore.noobaa.io/") {
			got = append(got, strings.TrimPrefix(line, "backingstore.noobaa.io/"))
		}
	}
	want := []string{"noobaa-default-backing-store"}
	for p := 0; p < 8; p++ {
		want = append(want, fmt.Sprintf("p%d-s0", p), fmt.Sprintf("p%d-s2", p))
	}
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("stores after the run:\n got %v\nwant %v", got, want)
	}
}

// A new state directory has NooBaa's defaults, so a claim without a class
// binds; without them (--manual-default-backing-store) it fails at once,
// exit 2, naming the classes there are.
func TestLocalDefaultClassForClaims(t *testing.T) {
	l := newLocalNB(t)
	r := l.ok(t, nil, "obc", "create", "c1")
	if !strings.Contains(r.stderr+r.stdout, "BUCKET_NAME") {
		t.Errorf("claim on the default class:\n%s%s", r.stdout, r.stderr)
	}
	if r := l.ok(t, nil, "status"); !strings.Contains(r.stdout, "noobaa-default-bucket-class Ready") || !strings.Contains(r.stdout, "down: start it") {
		t.Errorf("status:\n%s", r.stdout)
	}
	m := newLocalNB(t)
	r = m.run(t, nil, "obc", "create", "c1", "--manual-default-backing-store")
	if r.code != 2 || !strings.Contains(r.stderr, "--bucketclass") || !strings.Contains(r.stderr, "no bucket class") {
		t.Errorf("no default class: exit %d\n%s", r.code, r.stderr)
	}
	m.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16")
	m.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "mine", "--backingstores", "pv1")
	r = m.run(t, nil, "obc", "create", "c1")
	if r.code != 2 || !strings.Contains(r.stderr, "one of mine") {
		t.Errorf("no default class, one other: exit %d\n%s", r.code, r.stderr)
	}
	if r := m.run(t, nil, "obc", "list"); strings.Contains(r.stdout, "c1") {
		t.Errorf("a refused claim was created:\n%s", r.stdout)
	}
}
