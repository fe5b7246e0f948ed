package outage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nbctl/nb/pkg/blockstore"
)

// dataPath is a DataPath over a folder, recording the overrides made.
type dataPath struct {
	root      string
	overrides map[string]blockstore.Store
	refuse    string // a store whose override fails
}

func (d *dataPath) PVPoolDir(ns, name string) string { return filepath.Join(d.root, ns, name) }

func (d *dataPath) Override(_ context.Context, ns, name string, s blockstore.Store) (func(), error) {
	if name == d.refuse {
		return nil, errors.New("engine cannot be opened")
	}
	d.overrides[ns+"/"+name] = s
	return func() { delete(d.overrides, ns+"/"+name) }, nil
}

func store(name, typ string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"metadata": map[string]interface{}{"name": name, "namespace": "noobaa"},
		"spec":     map[string]interface{}{"type": typ}}}
}

func TestFailStoresFailsEachKindForRealAndRestores(t *testing.T) {
	ctx := context.Background()
	dp := &dataPath{root: t.TempDir(), overrides: map[string]blockstore.Store{}}
	pv := dp.PVPoolDir("noobaa", "pv1")
	if err := os.MkdirAll(filepath.Join(pv, "vol0"), 0o750); err != nil {
		t.Fatal(err)
	}
	restore, how, err := FailStores(ctx, dp, []*unstructured.Unstructured{store("pv1", "pv-pool"), store("aws1", "aws-s3")})
	if err != nil {
		t.Fatal(err)
	}
	if how != "volumes moved away; endpoint unreachable" {
		t.Errorf("how = %q", how)
	}
	if _, err := os.Stat(pv); !errors.Is(err, os.ErrNotExist) || !IsDown(pv) {
		t.Errorf("pv1's folder is still in place while failed (stat: %v)", err)
	}
	down := dp.overrides["noobaa/aws1"]
	if down == nil {
		t.Fatal("aws1 was not overridden")
	}
	if _, err := down.Get(ctx, "k"); !errors.Is(err, blockstore.ErrUnavailable) {
		t.Errorf("a read from the failed S3 store: %v, want ErrUnavailable", err)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(pv, "vol0")); err != nil || IsDown(pv) {
		t.Errorf("pv1 not back: %v", err)
	}
	if len(dp.overrides) != 0 {
		t.Errorf("overrides left after restore: %v", dp.overrides)
	}
}

func TestFailStoresUndoesWhatItDidWhenOneCannotFail(t *testing.T) {
	dp := &dataPath{root: t.TempDir(), overrides: map[string]blockstore.Store{}, refuse: "aws1"}
	pv := dp.PVPoolDir("noobaa", "pv1")
	if err := os.MkdirAll(pv, 0o750); err != nil {
		t.Fatal(err)
	}
	_, _, err := FailStores(context.Background(), dp, []*unstructured.Unstructured{store("pv1", "pv-pool"), store("aws1", "aws-s3")})
	if err == nil || !strings.Contains(err.Error(), `store "aws1"`) {
		t.Fatalf("want an error naming aws1, got %v", err)
	}
	if IsDown(pv) {
		t.Error("pv1 left failed after the second store could not be failed")
	}
	// A store already failed by another verify is refused, not failed twice.
	restore, err := FailFolder(pv)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	if _, _, err := FailStores(context.Background(), dp, []*unstructured.Unstructured{store("pv1", "pv-pool")}); err == nil || !strings.Contains(err.Error(), "already moved away") {
		t.Errorf("failing a store already failed: %v", err)
	}
}
