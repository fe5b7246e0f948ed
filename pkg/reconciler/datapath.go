package reconciler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/blockstore"
	s3store "github.com/nbctl/nb/pkg/blockstore/s3"
	"github.com/nbctl/nb/pkg/placement"
)

// MetaPath is the data path's metadata file (buckets and manifests). It
// sits beside the namespace folders; a namespace name cannot contain a
// dot, so it never collides with one.
func (r *Reconciler) MetaPath() string { return filepath.Join(r.DataDir, "buckets.db") }

// OpenStore opens the block store behind a BackingStore: a pv-pool's
// volumes, or an S3 store's target bucket with its Secret's keys.
func (r *Reconciler) OpenStore(ctx context.Context, obj *unstructured.Unstructured) (blockstore.Store, error) {
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	switch nbv1.StoreType(typ) {
	case nbv1.StoreTypePVPool:
		return r.OpenPVPool(obj)
	case nbv1.StoreTypeAWSS3, nbv1.StoreTypeS3Compatible, nbv1.StoreTypeIBMCos:
		cfg, bad := r.s3Config(ctx, obj)
		if bad != nil {
			return nil, errors.New(bad.message)
		}
		return s3store.New(cfg)
	}
	return nil, fmt.Errorf("the local data path cannot use %s stores", typ)
}

// OpenEngine opens the data path over the backing stores of a namespace.
// A store that cannot be opened is left out and reported in the map; the
// engine treats its blocks as unavailable. Close the engine's Meta after.
func (r *Reconciler) OpenEngine(ctx context.Context, ns string) (*placement.Engine, map[string]error, error) {
	list, err := r.Store.List(ctx, nbv1.BackingStoreGVR, ns)
	if err != nil {
		return nil, nil, err
	}
	stores := map[string]blockstore.Store{}
	failed := map[string]error{}
	for i := range list.Items {
		s, err := r.OpenStore(ctx, &list.Items[i])
		if err != nil {
			failed[list.Items[i].GetName()] = err
			continue
		}
		stores[list.Items[i].GetName()] = s
	}
	meta, err := placement.OpenMeta(r.MetaPath())
	if err != nil {
		return nil, nil, err
	}
	return &placement.Engine{Stores: stores, Meta: meta}, failed, nil
}
