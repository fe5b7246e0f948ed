package reconciler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

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

// dataPath is what a process keeps open of the data path between passes:
// the metadata, an engine per namespace, and each BackingStore's block
// store, reopened only when the store's spec (or Secret) changes. Opening
// a pv-pool measures its volumes, which should not happen on every pass.
type dataPath struct {
	mu      sync.Mutex
	meta    *placement.Meta
	engines map[string]*placement.Engine
	stores  map[string]openStore // by namespace/name
	// overrides replace a store while nb verify fails it.
	overrides map[string]blockstore.Store
	// stops end the engines' background collectors.
	stops []func()
}

// StopCollectors waits for the engines' background collectors to finish
// what they have queued (CollectInBackground).
func (r *Reconciler) StopCollectors() {
	r.data.mu.Lock()
	stops := r.data.stops
	r.data.stops = nil
	r.data.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

type openStore struct {
	key   string // uid, generation and the Secret's resourceVersion
	store blockstore.Store
	err   error
}

// Meta returns the data path's metadata (opened once per process; see
// placement.Meta for how it shares the file with other processes).
func (r *Reconciler) Meta() (*placement.Meta, error) {
	r.data.mu.Lock()
	defer r.data.mu.Unlock()
	return r.metaLocked()
}

func (r *Reconciler) metaLocked() (*placement.Meta, error) {
	if r.data.meta == nil {
		m, err := placement.OpenMeta(r.MetaPath())
		if err != nil {
			return nil, err
		}
		r.data.meta = m
	}
	return r.data.meta, nil
}

// storeKey says which version of a BackingStore (and its Secret) an open
// store was opened from.
func (r *Reconciler) storeKey(ctx context.Context, obj *unstructured.Unstructured) string {
	key := fmt.Sprintf("%s/%d", obj.GetUID(), obj.GetGeneration())
	if typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); typ != string(nbv1.StoreTypePVPool) {
		_, rv, _ := r.s3ConfigRV(ctx, obj)
		key += "/" + rv
	}
	return key
}

// StoreFor returns the block store behind a BackingStore, opening it
// the first time or after it changed.
func (r *Reconciler) StoreFor(ctx context.Context, obj *unstructured.Unstructured) (blockstore.Store, error) {
	key := r.storeKey(ctx, obj)
	id := obj.GetNamespace() + "/" + obj.GetName()
	r.data.mu.Lock()
	if o, ok := r.data.stores[id]; ok && o.key == key {
		r.data.mu.Unlock()
		return o.store, o.err
	}
	r.data.mu.Unlock()
	s, err := r.OpenStore(ctx, obj)
	r.data.mu.Lock()
	defer r.data.mu.Unlock()
	if r.data.stores == nil {
		r.data.stores = map[string]openStore{}
	}
	r.data.stores[id] = openStore{key: key, store: s, err: err}
	return s, err
}

// forgetStore drops a deleted store's open handle.
func (r *Reconciler) forgetStore(ns, name string) {
	r.data.mu.Lock()
	defer r.data.mu.Unlock()
	delete(r.data.stores, ns+"/"+name)
	if e := r.data.engines[ns]; e != nil {
		e.SetStore(name, nil)
	}
}

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

// OpenEngine returns the data path over the backing stores of a
// namespace: one engine per namespace and process, its stores brought in
// line with the BackingStores as they are now. A store that cannot be
// opened is left out and reported in the map; the engine treats its
// blocks as unavailable.
func (r *Reconciler) OpenEngine(ctx context.Context, ns string) (*placement.Engine, map[string]error, error) {
	list, err := r.Objects.List(ctx, nbv1.BackingStoreGVR, ns)
	if err != nil {
		return nil, nil, err
	}
	failed := map[string]error{}
	opened := map[string]blockstore.Store{}
	for i := range list.Items {
		obj := &list.Items[i]
		s, err := r.StoreFor(ctx, obj)
		if err != nil {
			failed[obj.GetName()] = err
			continue
		}
		opened[obj.GetName()] = s
	}
	r.data.mu.Lock()
	defer r.data.mu.Unlock()
	meta, err := r.metaLocked()
	if err != nil {
		return nil, nil, err
	}
	if r.data.engines == nil {
		r.data.engines = map[string]*placement.Engine{}
	}
	eng := r.data.engines[ns]
	if eng == nil {
		eng = &placement.Engine{Meta: meta, Stores: map[string]blockstore.Store{}, Budget: r.Budget}
		r.data.engines[ns] = eng
		if r.CollectInBackground {
			r.data.stops = append(r.data.stops, eng.StartCollector(context.WithoutCancel(ctx)))
		}
	}
	for _, name := range eng.StoreNames() {
		if _, ok := opened[name]; !ok {
			eng.SetStore(name, nil)
		}
	}
	for name, s := range opened {
		if o := r.data.overrides[ns+"/"+name]; o != nil {
			s = o
		}
		eng.SetStore(name, s)
	}
	return eng, failed, nil
}

// Override makes the data path use s in place of a BackingStore's own
// store until restore is called (nb verify failing an S3 store by giving
// it an address where nothing listens).
func (r *Reconciler) Override(ctx context.Context, ns, name string, s blockstore.Store) (restore func(), err error) {
	r.data.mu.Lock()
	if r.data.overrides == nil {
		r.data.overrides = map[string]blockstore.Store{}
	}
	r.data.overrides[ns+"/"+name] = s
	r.data.mu.Unlock()
	undo := func() {
		r.data.mu.Lock()
		delete(r.data.overrides, ns+"/"+name)
		r.data.mu.Unlock()
	}
	if _, _, err := r.OpenEngine(ctx, ns); err != nil {
		undo()
		return nil, err
	}
	return func() {
		undo()
		_, _, _ = r.OpenEngine(context.WithoutCancel(ctx), ns)
	}, nil
}

// OpenEngineCached returns the namespace's engine as the last pass left
// it (passes keep it in line with the BackingStores), opening it the
// first time: what a server's requests use, without reading the state.
func (r *Reconciler) OpenEngineCached(ctx context.Context, ns string) (*placement.Engine, map[string]error, error) {
	r.data.mu.Lock()
	eng := r.data.engines[ns]
	r.data.mu.Unlock()
	if eng != nil {
		return eng, nil, nil
	}
	return r.OpenEngine(ctx, ns)
}

// syncEngines brings every open engine's stores in line with the
// BackingStores (a store created or deleted since).
func (r *Reconciler) syncEngines(ctx context.Context) error {
	r.data.mu.Lock()
	var nss []string
	for ns := range r.data.engines {
		nss = append(nss, ns)
	}
	r.data.mu.Unlock()
	var errs []error
	for _, ns := range nss {
		if _, _, err := r.OpenEngine(ctx, ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
