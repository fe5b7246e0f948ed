package nbcmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/internal/versitygw"
	"github.com/nbctl/nb/pkg/outage"
	"github.com/nbctl/nb/pkg/verify"
)

// verifyJSON runs nb verify -o json and decodes its report.
func verifyJSON(t *testing.T, l *localNB, wantCode int, args ...string) verify.Report {
	t.Helper()
	r := l.run(t, nil, append([]string{"verify", "-o", "json"}, args...)...)
	if r.code != wantCode {
		t.Fatalf("nb verify %s: exit %d, want %d\n%s%s", strings.Join(args, " "), r.code, wantCode, r.stdout, r.stderr)
	}
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, r.stdout)
	}
	return rep
}

func results(rep verify.Report) map[string]string {
	out := map[string]string{}
	for _, c := range rep.Cases {
		p := "unpromised"
		if c.Promised {
			p = "promised"
		}
		out[strings.Join(c.Failed, "+")] = p + " " + c.Result
	}
	return out
}

func pvPools(t *testing.T, l *localNB, names ...string) {
	t.Helper()
	for _, n := range names {
		l.ok(t, nil, "backingstore", "create", "pv-pool", n, "--num-volumes", "2", "--pv-size-gb", "16")
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestVerifyMirrorSurvivesAnySingleLoss(t *testing.T) {
	l := newLocalNB(t)
	pvPools(t, l, "pv1", "pv2")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "mirror", "--placement", "Mirror", "--backingstores", "pv1,pv2")
	l.ok(t, nil, "obc", "create", "fb", "--bucketclass", "mirror")
	before := countFiles(t, filepath.Join(l.dir, "data", "noobaa", "pv1"))

	rep := verifyJSON(t, l, 0, "fb", "--size", "9Mi", "--seed", "7")
	want := map[string]string{"pv1": "promised intact", "pv2": "promised intact", "pv1+pv2": "unpromised unavailable"}
	if got := results(rep); !mapsEqual(got, want) {
		t.Errorf("cases %v, want %v", got, want)
	}
	if !rep.OK || rep.Size != 9<<20 || rep.Target != "local" || !strings.HasPrefix(rep.Bucket, "fb-") {
		t.Errorf("report %+v", rep)
	}
	for _, c := range rep.Cases {
		if c.Promised && (c.SHA256 != rep.SHA256 || c.ChunksHeld != c.Chunks || c.How != "volumes moved away") {
			t.Errorf("case %+v", c)
		}
	}
	// The same seed gives the same object.
	if again := verifyJSON(t, l, 0, "fb", "--size", "9Mi", "--seed", "7", "--fail", "pv2"); again.SHA256 != rep.SHA256 || len(again.Cases) != 1 {
		t.Errorf("second run: %s vs %s, %d cases", again.SHA256, rep.SHA256, len(again.Cases))
	}
	// The stores are back, and the test object is gone from them.
	if outage.IsDown(filepath.Join(l.dir, "data", "noobaa", "pv1")) {
		t.Error("pv1 was left moved away")
	}
	if after := countFiles(t, filepath.Join(l.dir, "data", "noobaa", "pv1")); after != before {
		t.Errorf("pv1 holds %d files after verify, %d before: the test object was not removed", after, before)
	}
	r := l.ok(t, nil, "backingstore", "list")
	if strings.Count(r.stdout, "Ready\tOPTIMAL") != 3 {
		t.Errorf("stores after verify:\n%s", r.stdout)
	}

	// The table for people.
	r = l.ok(t, nil, "verify", "fb", "--size", "1Mi")
	for _, w := range []string{"Mirror over pv1,pv2", "pv1\tpv-pool\tvolumes moved away", "intact (sha256 matches)", "OK: the policy's promise held"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("report lacks %q:\n%s", w, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "failing pv1 + pv2, reading back") {
		t.Errorf("progress log:\n%s", r.stderr)
	}
}

func TestVerifySpreadErasureAndTiers(t *testing.T) {
	l := newLocalNB(t)
	pvPools(t, l, "a", "b", "c", "d")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "spread", "--placement", "Spread", "--backingstores", "a,b")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "ec", "--placement", "Spread", "--backingstores", "a,b,c", "--erasure-coding", "2+1")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "tiered", "--tier", "Mirror:c,d", "--tier", "Spread:a,b")

	// Plain Spread promises nothing: losing either store loses data, and
	// that is reported, not a failure (exit 0).
	rep := verifyJSON(t, l, 0, "--bucketclass", "spread", "--size", "20Mi")
	if got := results(rep); !mapsEqual(got, map[string]string{"a": "unpromised unavailable", "b": "unpromised unavailable"}) {
		t.Errorf("spread: %v", got)
	}
	// 2+1 survives any one loss, not two.
	rep = verifyJSON(t, l, 0, "--bucketclass", "ec", "--size", "20Mi")
	if got := results(rep); !mapsEqual(got, map[string]string{"a": "promised intact", "b": "promised intact", "c": "promised intact", "a+b": "unpromised unavailable"}) {
		t.Errorf("erasure coding: %v", got)
	}
	// Two tiers: data goes to the Mirror tier; losing a Spread store the
	// object does not use changes nothing.
	rep = verifyJSON(t, l, 0, "--bucketclass", "tiered", "--size", "6Mi")
	got := results(rep)
	if got["c"] != "promised intact" || got["d"] != "promised intact" || got["c+d"] != "unpromised unavailable" || got["a"] != "unpromised intact" {
		t.Errorf("two tiers: %v", got)
	}
	// Temporary buckets are removed: no block is left on any store.
	for _, s := range []string{"a", "b", "c", "d"} {
		if n := countFiles(t, filepath.Join(l.dir, "data", "noobaa", s)); n != 0 {
			t.Errorf("store %s holds %d files after the temporary buckets were removed", s, n)
		}
	}
	// --fail names a store of the bucket.
	r := l.run(t, nil, "verify", "--bucketclass", "ec", "--fail", "zz")
	if r.code != 2 || !strings.Contains(r.stderr, "--fail") || !strings.Contains(r.stderr, `"zz" is not one of the bucket's (a, b, c)`) {
		t.Errorf("--fail zz: %+v", r)
	}
}

func TestVerifyMirrorOverPVPoolAndS3(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "target")
	l := newLocalNB(t)
	pvPools(t, l, "pv1")
	l.ok(t, map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey},
		"backingstore", "create", "s3-compatible", "s3a", "--endpoint", srv.Endpoint, "--target-bucket", "target")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "hybrid", "--placement", "Mirror", "--backingstores", "pv1,s3a")
	l.ok(t, nil, "obc", "create", "hb", "--bucketclass", "hybrid")
	rep := verifyJSON(t, l, 0, "hb", "--size", "5Mi", "--keep")
	if got := results(rep); !mapsEqual(got, map[string]string{"pv1": "promised intact", "s3a": "promised intact", "pv1+s3a": "unpromised unavailable"}) {
		t.Errorf("hybrid: %v", got)
	}
	for _, c := range rep.Cases {
		if c.Failed[0] == "s3a" && len(c.Failed) == 1 && c.How != "endpoint unreachable" {
			t.Errorf("s3 failure: %+v", c)
		}
	}
	if !rep.Kept {
		t.Error("--keep not reported")
	}
}

func TestVerifyRestoresWhatAKilledVerifyLeft(t *testing.T) {
	l := newLocalNB(t)
	pvPools(t, l, "pv1")
	root := filepath.Join(l.dir, "data", "noobaa", "pv1")
	// As a verify SIGKILLed midway leaves it: the folder moved away, with
	// the pid of a process that no longer exists.
	if err := os.Rename(root, outage.DownPath(root)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outage.DownPath(root), ".nb-verify-owner"), []byte("999999999"), 0o600); err != nil {
		t.Fatal(err)
	}
	l.ok(t, nil, "backingstore", "list")
	if outage.IsDown(root) {
		t.Fatal("the next nb did not move the folder back")
	}
	if _, err := os.Stat(filepath.Join(root, "vol-00")); err != nil {
		t.Fatalf("volumes not restored: %v", err)
	}
}

func TestVerifyNeedsABoundClaim(t *testing.T) {
	l := newLocalNB(t)
	r := l.run(t, nil, "verify", "nope")
	if r.code != 1 || !strings.Contains(r.stderr, `obc "nope" not found`) {
		t.Errorf("missing claim: %+v", r)
	}
	l.ok(t, nil, "obc", "create", "pending", "--bucketclass", "missing", "--wait=false")
	r = l.run(t, nil, "verify", "pending")
	if r.code != 1 || !strings.Contains(r.stderr, "is Pending, not Bound") {
		t.Errorf("pending claim: %+v", r)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
