package nbcmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/localstate"
)

const walkthrough = "../../testdata/apply/walkthrough.yaml"

// nb apply on the local target: the walk-through's manifests in any order
// create everything and wait for it; applying again changes nothing; an
// edited class is configured; a bad document stops the whole apply before
// anything is written.
func TestLocalApply(t *testing.T) {
	l := newLocalNB(t)
	r := l.ok(t, nil, "apply", "-f", walkthrough)
	for _, want := range []string{"secret/aws-s3-creds created", "backingstore.noobaa.io/pv-a created", "bucketclass.noobaa.io/mirror-bucket-class created", "objectbucketclaim.objectbucket.io/federated-bucket created"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply lacks %q:\n%s", want, r.stdout)
		}
	}
	// Secrets and stores before the class, the claim last.
	if strings.Index(r.stdout, "secret/") > strings.Index(r.stdout, "backingstore") || strings.Index(r.stdout, "bucketclass") > strings.Index(r.stdout, "objectbucketclaim") {
		t.Errorf("apply order:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "federated-bucket is Bound") {
		t.Errorf("apply did not wait for the claim:\n%s", r.stderr)
	}
	r = l.ok(t, nil, "apply", "-f", walkthrough)
	if strings.Count(r.stdout, "unchanged") != 5 {
		t.Errorf("a second apply changed something:\n%s", r.stdout)
	}
	st, err := localstate.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	claim, err := st.Get(context.Background(), obcGVR(), "noobaa", "federated-bucket")
	if err != nil {
		t.Fatal(err)
	}
	if b, _, _ := unstructuredString(claim.Object, "spec", "bucketName"); b == "" {
		t.Errorf("re-applying the claim dropped the bucketName the provisioner set")
	}

	// Edit the class: drop pv-b (the guide's "failure").
	raw, err := os.ReadFile(walkthrough)
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(t.TempDir(), "edited.yaml")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(raw), "      - pv-a\n      - pv-b\n      placement: Mirror", "      - pv-a\n      placement: Mirror", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = l.ok(t, nil, "apply", "-f", edited, "--wait=false")
	if !strings.Contains(r.stdout, "bucketclass.noobaa.io/mirror-bucket-class configured") {
		t.Errorf("edited class:\n%s", r.stdout)
	}
	bc, err := st.Get(context.Background(), nbv1.BucketClassGVR, "noobaa", "mirror-bucket-class")
	if err != nil {
		t.Fatal(err)
	}
	tiers, _, _ := unstructuredSlice(bc.Object, "spec", "placementPolicy", "tiers")
	if len(tiers) != 1 || !strings.Contains(toJSON(tiers), `"backingStores":["pv-a"]`) {
		t.Errorf("class after the edit: %s", toJSON(tiers))
	}

	// Nothing half-done: a valid new store and a broken document in one
	// apply write neither.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(`apiVersion: noobaa.io/v1alpha1
kind: BackingStore
metadata: {name: pv-c}
spec: {type: pv-pool, pvPool: {numVolumes: 1}}
---
apiVersion: noobaa.io/v1alpha1
kind: BucketClass
metadata: {name: broken}
spec:
  placementPolicy:
    tiers:
    - placement: Sideways
      backingStores: [pv-c]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = l.run(t, nil, "apply", "-f", bad)
	if r.code != 2 || !strings.Contains(r.stderr, bad+": document 2 (BucketClass broken)") || !strings.Contains(r.stderr, "placement") {
		t.Errorf("broken document: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := st.Get(context.Background(), nbv1.BackingStoreGVR, "noobaa", "pv-c"); err == nil {
		t.Errorf("the valid store of a failed apply was written")
	}
	for _, c := range []struct{ doc, want string }{
		{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", "is not something nb applies"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: Bad_Name}\n", "metadata.name"},
		{"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: not-base64!!}\n", "not base64"},
		{"kind: [\n", "not valid YAML"},
	} {
		f := filepath.Join(t.TempDir(), "x.yaml")
		if err := os.WriteFile(f, []byte(c.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := l.run(t, nil, "apply", "-f", f); r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "not-base64") {
			t.Errorf("%q: exit %d %s", c.doc, r.code, r.stderr)
		}
	}

	// Dry runs write nothing.
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm1}\ndata: {a: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := l.ok(t, nil, "apply", "-f", other, "--dry-run=server"); !strings.Contains(r.stdout, "configmap/cm1 created (server dry run)") {
		t.Errorf("server dry run: %s", r.stdout)
	}
	if r := l.ok(t, nil, "apply", "-f", other, "--dry-run=client", "-o", "name"); strings.TrimSpace(r.stdout) != "configmap/cm1" {
		t.Errorf("client dry run: %q", r.stdout)
	}
	if _, err := st.Get(context.Background(), configMapGVR(), "noobaa", "cm1"); err == nil {
		t.Errorf("a dry run wrote the ConfigMap")
	}
	// -o yaml masks Secret values.
	if r := l.ok(t, nil, "apply", "-f", walkthrough, "-o", "yaml", "--wait=false"); strings.Contains(r.stdout, "c2VjcmV0ZXhhbXBsZQ") || !strings.Contains(r.stdout, "kind: BackingStore") {
		t.Errorf("-o yaml: %s", r.stdout)
	}

	// nb delete -f: claim first, Secret last, each waited for.
	r = l.ok(t, nil, "delete", "-f", walkthrough)
	if strings.Index(r.stdout, "objectbucketclaim") > strings.Index(r.stdout, "bucketclass") || strings.Index(r.stdout, "backingstore") > strings.Index(r.stdout, "secret/") || strings.Count(r.stdout, " deleted") != 5 {
		t.Errorf("delete -f:\n%s", r.stdout)
	}
	if _, err := st.Get(context.Background(), nbv1.BackingStoreGVR, "noobaa", "pv-a"); err == nil {
		t.Errorf("pv-a survived nb delete -f")
	}
	if r := l.run(t, nil, "delete", "-f", walkthrough); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("delete -f of what is gone: exit %d %s", r.code, r.stderr)
	}
	l.ok(t, nil, "delete", "-f", walkthrough, "--ignore-not-found")
}

// nb bucketclass update changes a placement class's tiers; the claim's
// bucket follows for new data.
func TestLocalBucketClassUpdate(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "apply", "-f", walkthrough)
	r := l.ok(t, nil, "bucketclass", "update", "mirror-bucket-class", "--tier", ":pv-a", "--tier", ":pv-b")
	if !strings.Contains(r.stdout, "bucketclass.noobaa.io/mirror-bucket-class updated") || !strings.Contains(r.stderr, "is Ready") {
		t.Errorf("update: %s%s", r.stdout, r.stderr)
	}
	r = l.ok(t, nil, "bucketclass", "update", "mirror-bucket-class", "--placement", "Spread", "--backingstores", "pv-a,pv-b")
	st, err := localstate.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := st.Get(context.Background(), nbv1.BucketClassGVR, "noobaa", "mirror-bucket-class")
	if err != nil {
		t.Fatal(err)
	}
	tiers, _, _ := unstructuredSlice(bc.Object, "spec", "placementPolicy", "tiers")
	if toJSON(tiers) != `[{"backingStores":["pv-a","pv-b"],"placement":"Spread"}]` {
		t.Errorf("tiers after update: %s", toJSON(tiers))
	}
	if r := l.ok(t, nil, "obc", "status", "federated-bucket"); !strings.Contains(r.stdout, "PlacementUpdated") {
		t.Errorf("the claim did not follow the class:\n%s", r.stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bucketclass", "update", "mirror-bucket-class", "--placement", "Sideways", "--backingstores", "pv-a,pv-b"}, "--placement"},
		{[]string{"bucketclass", "update", "mirror-bucket-class"}, "--backingstores"},
		{[]string{"bucketclass", "update", "nope", "--backingstores", "pv-a"}, "not found"},
	} {
		r := l.run(t, nil, c.args...)
		if r.code == 0 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d %s", c.args, r.code, r.stderr)
		}
	}
}

// nb edit: an editor's change is saved; an invalid one reopens with the
// error on top and a fix is then saved; no change saves nothing.
func TestLocalEdit(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "apply", "-f", walkthrough, "--wait=false")
	dir := t.TempDir()
	script := filepath.Join(dir, "editor.sh")
	count, seen := filepath.Join(dir, "count"), filepath.Join(dir, "seen")
	if err := os.WriteFile(script, []byte(`n=$(cat `+count+` 2>/dev/null || echo 0); echo $((n+1)) > `+count+`
cp "$1" `+seen+`.$n
if [ "$n" = 0 ]; then sed -i 's/placement: Mirror/placement: Sideways/' "$1"; else sed -i 's/placement: Sideways/placement: Spread/' "$1"; fi
`), 0o700); err != nil {
		t.Fatal(err)
	}
	r := l.ok(t, map[string]string{"KUBE_EDITOR": "sh " + script}, "edit", "bucketclass", "mirror-bucket-class")
	if !strings.Contains(r.stdout, "bucketclass.noobaa.io/mirror-bucket-class edited") {
		t.Errorf("edit: %s%s", r.stdout, r.stderr)
	}
	second, err := os.ReadFile(seen + ".1")
	if err != nil || !strings.Contains(string(second), "# error:") || !strings.Contains(string(second), "Sideways") {
		t.Errorf("the reopened file lacks the error on top:\n%s", second)
	}
	st, err := localstate.Open(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	bc, _ := st.Get(context.Background(), nbv1.BucketClassGVR, "noobaa", "mirror-bucket-class")
	if tiers, _, _ := unstructuredSlice(bc.Object, "spec", "placementPolicy", "tiers"); !strings.Contains(toJSON(tiers), `"placement":"Spread"`) {
		t.Errorf("tiers after edit: %s", toJSON(tiers))
	}
	// An editor that saves the file as it was changes nothing.
	r = l.ok(t, map[string]string{"EDITOR": "true"}, "edit", "bc", "mirror-bucket-class")
	if !strings.Contains(r.stderr, "no changes made") {
		t.Errorf("unchanged edit: %s", r.stderr)
	}
	if r := l.run(t, map[string]string{"EDITOR": "false"}, "edit", "obc", "federated-bucket"); r.code != 1 || !strings.Contains(r.stderr, "editor") {
		t.Errorf("a failing editor: exit %d %s", r.code, r.stderr)
	}
	if r := l.run(t, nil, "edit", "deployment", "x"); r.code != 2 {
		t.Errorf("edit of a kind nb does not edit: exit %d", r.code)
	}
	// The temporary files are gone.
	if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "nb-edit-*")); len(m) > 0 {
		t.Errorf("edit left %v", m)
	}
}

// kubectl's output rules: status -o json is the object, list templates
// see the List, and wide (from the configuration) does not break status.
func TestOutputRulesAsKubectl(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16")
	r := l.ok(t, nil, "backingstore", "status", "pv1", "-o", "jsonpath={.status.phase}")
	if r.stdout != "Ready" {
		t.Errorf("status -o jsonpath={.status.phase}: %q", r.stdout)
	}
	r = l.ok(t, nil, "backingstore", "status", "pv1", "-o", "json")
	if !strings.Contains(r.stdout, `"kind": "BackingStore"`) || strings.Contains(r.stdout, `"kind": "List"`) {
		t.Errorf("status -o json is not the object:\n%s", r.stdout)
	}
	r = l.ok(t, nil, "backingstore", "list", "-o", `jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}`)
	if r.stdout != "noobaa-default-backing-store\npv1\n" {
		t.Errorf("list -o jsonpath range: %q", r.stdout)
	}
	r = l.ok(t, nil, "backingstore", "list", "-o", "jsonpath={.items[*].metadata.name}")
	if r.stdout != "noobaa-default-backing-store pv1" {
		t.Errorf("list -o jsonpath items: %q", r.stdout)
	}
	r = l.ok(t, map[string]string{"NB_OUTPUT": "wide"}, "backingstore", "status", "pv1")
	if !strings.Contains(r.stdout, "Phase:") {
		t.Errorf("NB_OUTPUT=wide status: %s", r.stdout)
	}
}
