// Package localstate is the storage of nb's local control plane: the same
// API objects a cluster holds (CRs, Secrets, ConfigMaps, Events), kept in
// one bbolt file in a state directory, with the API server's semantics:
// uid, resourceVersion, generation and creationTimestamp; optimistic
// concurrency (a stale resourceVersion is a Conflict); the status
// subresource; finalizers that turn a delete into a deletionTimestamp; and
// watches that resume from a resourceVersion. Errors are
// k8s.io/apimachinery API errors, so callers treat both targets alike.
//
// Every call opens the file, runs one transaction and closes it: bbolt's
// file lock serializes concurrent nb processes, and its copy-on-write
// commits make a crash leave the state of the last committed call.
package localstate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nbctl/nb/pkg/boltfile"
)

var (
	bucketObjects = []byte("objects")
	bucketEvents  = []byte("watch-events")
	bucketMeta    = []byte("meta")
	keyRV         = []byte("resourceVersion")
)

// eventLogSize is how many changes watches can resume from.
const eventLogSize = 4096

// DB is the local target's database of API objects, the state file
// (state.db): what etcd is to a cluster. (Not a block store: those are
// blockstore.Store.)
type DB struct {
	path string
	// Now is the clock (tests).
	Now func() time.Time
	// LockTimeout bounds the wait for another nb process's transaction.
	LockTimeout time.Duration
}

// Open prepares the state file under dir.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	s := &DB{path: filepath.Join(dir, "state.db"), Now: time.Now, LockTimeout: 30 * time.Second}
	err := s.update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketObjects, bucketEvents, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	return s, err
}

// ResourceVersion is the state's latest change: it moves whenever any
// object does (what nb serve polls to know when to reconcile).
func (s *DB) ResourceVersion(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var rv uint64
	err := s.view(func(tx *bolt.Tx) error {
		rv = currentRV(tx)
		return nil
	})
	return rv, err
}

// Path is the state file.
func (s *DB) Path() string { return s.path }

func (s *DB) open() (*bolt.DB, error) {
	db, err := boltfile.Open(s.path, 0o600, &bolt.Options{Timeout: s.LockTimeout})
	if boltfile.IsDamaged(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", s.path, err)
	}
	return db, nil
}

func (s *DB) update(fn func(*bolt.Tx) error) error {
	db, err := s.open()
	if err != nil {
		return err
	}
	defer db.Close()
	return boltfile.Update(db, fn)
}

func (s *DB) view(fn func(*bolt.Tx) error) error {
	db, err := s.open()
	if err != nil {
		return err
	}
	defer db.Close()
	return boltfile.View(db, fn)
}

// objectKey orders objects by resource, then namespace, then name.
func objectKey(gvr schema.GroupVersionResource, ns, name string) []byte {
	return []byte(resourcePrefix(gvr) + ns + "/" + name)
}

func resourcePrefix(gvr schema.GroupVersionResource) string {
	return gvr.Group + "/" + gvr.Version + "/" + gvr.Resource + "/"
}

func nextRV(tx *bolt.Tx) (uint64, error) {
	m := tx.Bucket(bucketMeta)
	var rv uint64
	if v := m.Get(keyRV); v != nil {
		rv, _ = strconv.ParseUint(string(v), 10, 64)
	}
	rv++
	return rv, m.Put(keyRV, []byte(strconv.FormatUint(rv, 10)))
}

func currentRV(tx *bolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(keyRV)
	rv, _ := strconv.ParseUint(string(v), 10, 64)
	return rv
}

// event is one change, kept so that watches can resume.
type event struct {
	Type     string                 `json:"type"`
	Resource string                 `json:"resource"`
	Object   map[string]interface{} `json:"object"`
}

func logEvent(tx *bolt.Tx, rv uint64, typ string, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) error {
	raw, err := json.Marshal(event{Type: typ, Resource: resourcePrefix(gvr), Object: obj.Object})
	if err != nil {
		return err
	}
	b := tx.Bucket(bucketEvents)
	if err := b.Put(rvKey(rv), raw); err != nil {
		return err
	}
	if rv > eventLogSize {
		return b.Delete(rvKey(rv - eventLogSize))
	}
	return nil
}

func rvKey(rv uint64) []byte { return []byte(fmt.Sprintf("%020d", rv)) }

func decode(raw []byte) (*unstructured.Unstructured, error) {
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return obj, nil
}

func put(tx *bolt.Tx, key []byte, obj *unstructured.Unstructured) error {
	raw, err := obj.MarshalJSON()
	if err != nil {
		return err
	}
	return tx.Bucket(bucketObjects).Put(key, raw)
}

// Create stores a new object, as the API server does on POST.
func (s *DB) Create(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, err := canonical(obj)
	if err != nil {
		return nil, err
	}
	name := obj.GetName()
	if name == "" {
		return nil, apierrors.NewBadRequest("metadata.name is required")
	}
	var out *unstructured.Unstructured
	err = s.update(func(tx *bolt.Tx) error {
		key := objectKey(gvr, obj.GetNamespace(), name)
		if tx.Bucket(bucketObjects).Get(key) != nil {
			return apierrors.NewAlreadyExists(gvr.GroupResource(), name)
		}
		rv, err := nextRV(tx)
		if err != nil {
			return err
		}
		obj.SetUID(types.UID(uuid.NewString()))
		obj.SetResourceVersion(strconv.FormatUint(rv, 10))
		obj.SetGeneration(1)
		obj.SetCreationTimestamp(metav1.NewTime(s.Now().UTC().Truncate(time.Second)))
		obj.SetDeletionTimestamp(nil)
		if err := put(tx, key, obj); err != nil {
			return err
		}
		out = obj
		return logEvent(tx, rv, "ADDED", gvr, obj)
	})
	return out, err
}

// Get reads an object.
func (s *DB) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var raw []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketObjects).Get(objectKey(gvr, ns, name)); v != nil {
			raw = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	return decode(raw)
}

// List reads every object of a resource in ns ("" for all namespaces).
func (s *DB) List(ctx context.Context, gvr schema.GroupVersionResource, ns string) (*unstructured.UnstructuredList, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list := &unstructured.UnstructuredList{Object: map[string]interface{}{}}
	err := s.view(func(tx *bolt.Tx) error {
		prefix := []byte(resourcePrefix(gvr))
		if ns != "" {
			prefix = append(prefix, []byte(ns+"/")...)
		}
		c := tx.Bucket(bucketObjects).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			obj, err := decode(v)
			if err != nil {
				return err
			}
			list.Items = append(list.Items, *obj)
		}
		list.SetResourceVersion(strconv.FormatUint(currentRV(tx), 10))
		return nil
	})
	return list, err
}

// Update replaces an object's metadata and spec (not its status), as a
// PUT to a resource with a status subresource does. The caller's
// resourceVersion must be current.
func (s *DB) Update(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return s.modify(ctx, gvr, obj, false)
}

// UpdateStatus replaces an object's status only.
func (s *DB) UpdateStatus(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return s.modify(ctx, gvr, obj, true)
}

func (s *DB) modify(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, status bool) (*unstructured.Unstructured, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, err := canonical(obj)
	if err != nil {
		return nil, err
	}
	var out *unstructured.Unstructured
	err = s.update(func(tx *bolt.Tx) error {
		key := objectKey(gvr, obj.GetNamespace(), obj.GetName())
		raw := tx.Bucket(bucketObjects).Get(key)
		if raw == nil {
			return apierrors.NewNotFound(gvr.GroupResource(), obj.GetName())
		}
		cur, err := decode(raw)
		if err != nil {
			return err
		}
		if rv := obj.GetResourceVersion(); rv != "" && rv != cur.GetResourceVersion() {
			return apierrors.NewConflict(gvr.GroupResource(), obj.GetName(),
				fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
		}
		next := cur.DeepCopy()
		if status {
			if st, ok := obj.Object["status"]; ok {
				next.Object["status"] = runtime.DeepCopyJSONValue(st)
			} else {
				delete(next.Object, "status")
			}
		} else {
			for k, v := range obj.Object {
				if k != "status" && k != "metadata" {
					next.Object[k] = runtime.DeepCopyJSONValue(v)
				}
			}
			for k := range next.Object {
				if _, ok := obj.Object[k]; !ok && k != "status" && k != "metadata" && k != "apiVersion" && k != "kind" {
					delete(next.Object, k)
				}
			}
			next.SetLabels(obj.GetLabels())
			next.SetAnnotations(obj.GetAnnotations())
			next.SetFinalizers(obj.GetFinalizers())
			next.SetOwnerReferences(obj.GetOwnerReferences())
			if !reflect.DeepEqual(cur.Object["spec"], next.Object["spec"]) {
				next.SetGeneration(cur.GetGeneration() + 1)
			}
		}
		if reflect.DeepEqual(cur.Object, next.Object) {
			out = cur
			return nil
		}
		rv, err := nextRV(tx)
		if err != nil {
			return err
		}
		next.SetResourceVersion(strconv.FormatUint(rv, 10))
		if next.GetDeletionTimestamp() != nil && len(next.GetFinalizers()) == 0 {
			if err := tx.Bucket(bucketObjects).Delete(key); err != nil {
				return err
			}
			out = next
			return logEvent(tx, rv, "DELETED", gvr, next)
		}
		if err := put(tx, key, next); err != nil {
			return err
		}
		out = next
		return logEvent(tx, rv, "MODIFIED", gvr, next)
	})
	return out, err
}

// Delete removes an object, or, while it has finalizers, marks it with a
// deletionTimestamp; the last finalizer's removal deletes it. A UID
// precondition that does not match is a Conflict.
func (s *DB) Delete(ctx context.Context, gvr schema.GroupVersionResource, ns, name string, uid string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		key := objectKey(gvr, ns, name)
		raw := tx.Bucket(bucketObjects).Get(key)
		if raw == nil {
			return apierrors.NewNotFound(gvr.GroupResource(), name)
		}
		cur, err := decode(raw)
		if err != nil {
			return err
		}
		if uid != "" && string(cur.GetUID()) != uid {
			return apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf("precondition failed: UID in precondition: %s, UID in object meta: %s", uid, cur.GetUID()))
		}
		rv, err := nextRV(tx)
		if err != nil {
			return err
		}
		cur.SetResourceVersion(strconv.FormatUint(rv, 10))
		if len(cur.GetFinalizers()) > 0 {
			if cur.GetDeletionTimestamp() != nil {
				return nil
			}
			now := metav1.NewTime(s.Now().UTC().Truncate(time.Second))
			cur.SetDeletionTimestamp(&now)
			if err := put(tx, key, cur); err != nil {
				return err
			}
			return logEvent(tx, rv, "MODIFIED", gvr, cur)
		}
		if err := tx.Bucket(bucketObjects).Delete(key); err != nil {
			return err
		}
		return logEvent(tx, rv, "DELETED", gvr, cur)
	})
}

// canonical round-trips obj through JSON, so that it holds only JSON
// types (int64, float64, string, bool, maps, slices) and deep copies are
// safe whatever the caller built it from.
func canonical(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	raw, err := obj.MarshalJSON()
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("object does not serialize: %v", err))
	}
	return decode(raw)
}
