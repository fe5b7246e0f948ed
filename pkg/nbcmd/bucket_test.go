package nbcmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockFiles lists the block files of a pv-pool store of the local target.
func blockFiles(t *testing.T, dir, store string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(filepath.Join(dir, "data", "noobaa", store), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && strings.Contains(p, string(filepath.Separator)+"blocks"+string(filepath.Separator)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func damage(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("damage!"), off); err != nil {
		t.Fatal(err)
	}
}

// nb bucket list/status and scrub on demand: a damaged copy is repaired
// from the other, the claim's events and status say so; damage to every
// copy is reported as lost, exit 3.
func TestBucketScrubRepairsAndReportsLoss(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv2", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "m", "--placement", "Mirror", "--backingstores", "pv1,pv2")
	l.ok(t, nil, "obc", "create", "c1", "--bucketclass", "m", "--max-size", "5Gi")
	l.ok(t, nil, "verify", "c1", "--size", "9Mi", "--keep")
	if r := l.run(t, nil, "bucket", "scrub"); r.code != 2 || !strings.Contains(r.stderr, "--all") {
		t.Errorf("scrub without a name: exit %d %s", r.code, r.stderr)
	}

	r := l.ok(t, nil, "bucket", "list", "-o", "json")
	var list []struct {
		Name, Claim       string
		Objects, Degraded int64
		Bytes             int64
		FreeKnown         bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Claim != "noobaa/c1" || list[0].Objects != 1 || list[0].Bytes != 9<<20 || !list[0].FreeKnown {
		t.Fatalf("bucket list: %s", r.stdout)
	}

	files := blockFiles(t, l.dir, "pv1")
	if len(files) == 0 {
		t.Fatal("no block files on pv1")
	}
	damage(t, files[0], 5<<20)
	r = l.ok(t, nil, "bucket", "scrub", "c1")
	if !strings.Contains(r.stdout, "1 repaired") || !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("scrub of one damaged copy: %s", r.stdout)
	}
	r = l.ok(t, nil, "obc", "status", "c1")
	for _, want := range []string{"Bucket status:", "Objects:", "1 optimal, 0 degraded", "Quota size:", "Last scrub:", "Repaired"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("obc status lacks %q:\n%s", want, r.stdout)
		}
	}

	for _, s := range []string{"pv1", "pv2"} {
		for _, f := range blockFiles(t, l.dir, s) {
			damage(t, f, 4200)
		}
	}
	r = l.run(t, nil, "bucket", "scrub", "--all")
	if r.code != 3 || !strings.Contains(r.stdout, "1 lost") || !strings.Contains(r.stdout, "lost: ") || !strings.Contains(r.stderr, "could not be rebuilt") {
		t.Errorf("scrub with every copy damaged: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = l.ok(t, nil, "bucket", "status", "c1")
	if !strings.Contains(r.stdout, "1 unreadable at the last scrub") {
		t.Errorf("bucket status after a loss:\n%s", r.stdout)
	}
	if r := l.ok(t, nil, "obc", "status", "c1"); !strings.Contains(r.stdout, "DataLost") {
		t.Errorf("no DataLost event:\n%s", r.stdout)
	}
	if r := l.ok(t, nil, "status"); !strings.Contains(r.stdout, "Buckets:\t1, 1 objects, 9Mi; 0 degraded, 1 unreadable") || !strings.Contains(r.stdout, "pv1 Ready/OPTIMAL (") {
		t.Errorf("nb status:\n%s", r.stdout)
	}
	// A normal verify leaves no record of its objects behind.
	if entries, _ := os.ReadDir(filepath.Join(l.dir, "data", ".verify")); len(entries) != 0 {
		t.Errorf("verify left %d record(s) in data/.verify", len(entries))
	}
}

// A class change moves the data: nb bucket rebalance re-places what the
// class no longer describes; the dropped store ends up empty, the object
// is intact.
func TestBucketRebalanceFollowsTheClass(t *testing.T) {
	l := newLocalNB(t)
	for _, s := range []string{"pv1", "pv2", "pv3"} {
		l.ok(t, nil, "backingstore", "create", "pv-pool", s, "--num-volumes", "1", "--pv-size-gb", "16")
	}
	l.ok(t, nil, "bucketclass", "create", "m", "--placement", "Mirror", "--backingstores", "pv1,pv2")
	l.ok(t, nil, "obc", "create", "c1", "--bucketclass", "m")
	l.ok(t, nil, "verify", "c1", "--size", "9Mi", "--keep")
	l.ok(t, nil, "bucketclass", "update", "m", "--placement", "Mirror", "--backingstores", "pv1,pv3")
	r := l.ok(t, nil, "bucket", "status", "c1")
	if !strings.Contains(r.stdout, "0 of 1 object(s) placed as the class says; 1 still to move") {
		t.Errorf("status before the rebalance:\n%s", r.stdout)
	}
	r = l.ok(t, nil, "bucket", "rebalance", "c1")
	if !strings.Contains(r.stdout, "1 moved") {
		t.Errorf("rebalance: %s%s", r.stdout, r.stderr)
	}
	l.ok(t, nil, "bucket", "gc", "c1")
	if n := len(blockFiles(t, l.dir, "pv2")); n != 0 {
		t.Errorf("pv2 left the class but holds %d block files", n)
	}
	if n := len(blockFiles(t, l.dir, "pv3")); n == 0 {
		t.Errorf("pv3 joined the class but holds nothing")
	}
	r = l.ok(t, nil, "bucket", "scrub", "c1")
	if !strings.Contains(r.stdout, "1 object(s)") || !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("scrub after the rebalance: %s", r.stdout)
	}
	if r := l.ok(t, nil, "bucket", "status", "c1"); strings.Contains(r.stdout, "still to move") {
		t.Errorf("status after the rebalance:\n%s", r.stdout)
	}
	if r := l.ok(t, nil, "obc", "status", "c1"); !strings.Contains(r.stdout, "Rebalanced") {
		t.Errorf("no Rebalanced event:\n%s", r.stdout)
	}
}
