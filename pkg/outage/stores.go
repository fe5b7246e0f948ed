package outage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/blockstore"
	s3store "github.com/nbctl/nb/pkg/blockstore/s3"
)

// DataPath is the seam through which stores of the local target are made
// to fail: where a pv-pool keeps its volumes, and a way to make the data
// path use another store in place of a BackingStore's own until restored
// (the reconciler implements it).
type DataPath interface {
	PVPoolDir(ns, name string) string
	Override(ctx context.Context, ns, name string, s blockstore.Store) (restore func(), err error)
}

// FailStores makes BackingStores of the local target really fail: a
// pv-pool's volumes are moved away (FailFolder), an S3 store's data path
// talks to an address where nothing listens. restore brings them all
// back, last failed first; how says what was done. If one cannot be
// failed, those already failed are restored before the error returns.
func FailStores(ctx context.Context, dp DataPath, stores []*unstructured.Unstructured) (restore func() error, how string, err error) {
	var restores []func() error
	restore = func() error {
		var errs []error
		for i := len(restores) - 1; i >= 0; i-- {
			errs = append(errs, restores[i]())
		}
		return errors.Join(errs...)
	}
	var hows []string
	addHow := func(h string) {
		if !slices.Contains(hows, h) {
			hows = append(hows, h)
		}
	}
	for _, obj := range stores {
		name := obj.GetName()
		typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
		switch nbv1.StoreType(typ) {
		case nbv1.StoreTypePVPool:
			undo, err := FailFolder(dp.PVPoolDir(obj.GetNamespace(), name))
			if err != nil {
				return nil, "", errors.Join(fmt.Errorf("store %q: %w", name, err), restore())
			}
			restores = append(restores, undo)
			addHow("volumes moved away")
		default:
			down, err := unreachable(name)
			if err != nil {
				return nil, "", errors.Join(err, restore())
			}
			undo, err := dp.Override(ctx, obj.GetNamespace(), name, down)
			if err != nil {
				return nil, "", errors.Join(fmt.Errorf("store %q: %w", name, err), restore())
			}
			restores = append(restores, func() error { undo(); return nil })
			addHow("endpoint unreachable")
		}
	}
	return restore, strings.Join(hows, "; "), nil
}

// unreachable is an S3 store named name whose endpoint is an address where
// nothing listens: every call fails as when the cloud is out of reach.
func unreachable(name string) (blockstore.Store, error) {
	return s3store.New(s3store.Config{Name: name, Endpoint: "http://127.0.0.1:1", Bucket: "unreachable", Region: "us-east-1",
		AccessKey: "x", SecretKey: "x", PathStyle: true})
}
