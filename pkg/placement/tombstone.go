package placement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A Tombstone records on the stores that an object (or a whole bucket,
// Key "") was deleted at a time: every version created at or before
// Deleted is dead. Delete and DeleteBucket write one only when a store
// that still holds a copy of a dead version is down, so that Recover
// (which may run with the metadata lost) does not bring the object back
// from that store's manifest copy. CollectGarbage removes the tombstone
// once every dead version is gone from every store.
type Tombstone struct {
	Version int       `json:"v"`
	Bucket  string    `json:"bucket"`
	Key     string    `json:"key,omitempty"`
	Deleted time.Time `json:"deleted"`
	// Stores is where the tombstone was written (kept in the metadata
	// only, so that it can be removed again).
	Stores []string `json:"stores,omitempty"`
}

// ErrBadTombstone means a tombstone failed to decode or validate.
var ErrBadTombstone = errors.New("invalid tombstone")

func (t *Tombstone) validate() error {
	switch {
	case t.Version != ManifestVersion:
		return fmt.Errorf("%w: version %d", ErrBadTombstone, t.Version)
	case t.Bucket == "":
		return fmt.Errorf("%w: no bucket", ErrBadTombstone)
	case t.Deleted.IsZero():
		return fmt.Errorf("%w: no deletion time", ErrBadTombstone)
	}
	return nil
}

// encodeTombstone serializes a tombstone for a store (without Stores).
func encodeTombstone(t *Tombstone) ([]byte, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	c := *t
	c.Stores = nil
	return json.Marshal(&c)
}

// DecodeTombstone parses and validates a tombstone.
func DecodeTombstone(b []byte) (*Tombstone, error) {
	t := &Tombstone{}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadTombstone, err)
	}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// kills reports whether the tombstone covers a version of an object.
func (t *Tombstone) kills(m *Manifest) bool {
	return t.Bucket == m.Bucket && (t.Key == "" || t.Key == m.Key) && !m.Created.After(t.Deleted)
}

// tombstoneKey is where a tombstone lives on a store: one per object key
// (a later deletion overwrites it), and one per bucket.
func tombstoneKey(bucket, key string) string {
	if key == "" {
		return "tombstones/" + bucket + "/bucket"
	}
	return "tombstones/" + bucket + "/" + keyHash(key)
}

var bucketTombstones = []byte("tombstones")

// writeTombstone records that bucket/key (key "" for the whole bucket)
// was deleted now, on every listed store that is up, and in the metadata.
func (e *Engine) writeTombstone(ctx context.Context, bucket, key string, stores []string) error {
	t := &Tombstone{Version: ManifestVersion, Bucket: bucket, Key: key, Deleted: e.now()}
	raw, err := encodeTombstone(t)
	if err != nil {
		return err
	}
	buf, _ := newBlock(raw, kindTombstone)
	for _, s := range stores {
		if st := e.store(s); st != nil && st.Put(ctx, tombstoneKey(bucket, key), buf) == nil {
			t.Stores = append(t.Stores, s)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return e.Meta.putTombstone(t)
}

// deadVersions picks from the garbage list the versions of bucket/key
// (key "": of any object of the bucket): as long as one is listed, a
// manifest copy of it may remain on a store that was down.
func deadVersions(garbage []*Manifest, bucket, key string) []*Manifest {
	var out []*Manifest
	for _, g := range garbage {
		if g.Bucket == bucket && (key == "" || g.Key == key) {
			out = append(out, g)
		}
	}
	return out
}

func tombstoneName(bucket, key string) string {
	if key == "" {
		return "bucket " + bucket
	}
	return bucket + "/" + key
}

// removeTombstones deletes the tombstones whose dead versions are all
// collected, from the stores and then from the metadata.
func (e *Engine) removeTombstones(ctx context.Context) error {
	list, err := e.Meta.tombstones()
	if err != nil || len(list) == 0 {
		return err
	}
	garbage, err := e.Meta.Garbage()
	if err != nil {
		return err
	}
	for _, t := range list {
		if len(deadVersions(garbage, t.Bucket, t.Key)) > 0 {
			continue
		}
		gone := true
		for _, s := range t.Stores {
			if st := e.store(s); st == nil || st.Delete(ctx, tombstoneKey(t.Bucket, t.Key)) != nil {
				gone = false
			}
		}
		if !gone {
			continue
		}
		if err := e.Meta.dropTombstone(t.Bucket, t.Key); err != nil {
			return err
		}
	}
	return nil
}

// storesOf lists the stores of a set of manifests (blocks and policy).
func storesOf(mans []*Manifest) []string {
	seen := map[string]bool{}
	for _, m := range mans {
		for _, s := range m.stores() {
			seen[s] = true
		}
		for _, t := range m.Tiers {
			for _, s := range t.Stores {
				seen[s] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (m *Meta) putTombstone(t *Tombstone) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return m.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTombstones).Put(objectKey(t.Bucket, t.Key), raw)
	})
}

func (m *Meta) dropTombstone(bucket, key string) error {
	return m.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTombstones).Delete(objectKey(bucket, key))
	})
}

// tombstones lists the tombstones the metadata knows of.
func (m *Meta) tombstones() ([]*Tombstone, error) {
	var out []*Tombstone
	err := m.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTombstones).ForEach(func(_, v []byte) error {
			t, err := DecodeTombstone(v)
			if err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// addGarbage queues dead versions (found by Recover) for collection.
func (m *Meta) addGarbage(mans []*Manifest) error {
	return m.update(func(tx *bolt.Tx) error {
		for _, man := range mans {
			raw, err := EncodeManifest(man)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketGarbage).Put([]byte(man.ObjectID), raw); err != nil {
				return err
			}
			// Collecting it will uncount its packs: count them now.
			if _, err := countPacks(tx, man, 1); err != nil {
				return err
			}
		}
		return nil
	})
}
