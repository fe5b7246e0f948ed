package placement

import (
	"context"
	"errors"
	"sort"
)

// RecoverReport says what Recover rebuilt.
type RecoverReport struct {
	// Scanned counts the manifest copies and tombstones read.
	Scanned int `json:"scanned"`
	// Restored counts the objects whose metadata was rebuilt.
	Restored int `json:"restored"`
	// Removed counts the dead versions found on the stores (deleted, or
	// replaced by a newer version) and queued for deletion.
	Removed int `json:"removed"`
	// Skipped counts the entries that could not be read or were invalid.
	Skipped int `json:"skipped"`
}

// Recover rebuilds a bucket's metadata by scanning its stores for the
// manifest copies Put leaves next to the blocks: the newest version of
// each key wins, unless a tombstone (see Tombstone) or the garbage list
// says the object was deleted after that version was written. Current
// metadata is kept unless a store holds a newer live version. The dead
// versions found are queued for deletion and collected, with every store
// that is up.
func (e *Engine) Recover(ctx context.Context, bucket string) (RecoverReport, error) {
	var rep RecoverReport
	versions := map[string]*Manifest{} // by object ID
	tombs := map[string]*Tombstone{}   // by object key, "" for the bucket
	for _, name := range e.StoreNames() {
		if err := e.scanManifests(ctx, name, bucket, versions, &rep); err != nil {
			return rep, err
		}
		if err := e.scanTombstones(ctx, name, bucket, tombs, &rep); err != nil {
			return rep, err
		}
	}
	packed := map[string]*Manifest{}
	for _, name := range e.StoreNames() {
		if err := e.scanPacks(ctx, name, bucket, packed, &rep); err != nil {
			return rep, err
		}
	}
	completePacked(packed)
	for id, man := range packed {
		if versions[id] == nil { // a manifest copy (a healed object's) knows more
			versions[id] = man
		}
	}
	if err := e.mergeTombstones(bucket, tombs); err != nil {
		return rep, err
	}

	garbage, err := e.Meta.Garbage()
	if err != nil {
		return rep, err
	}
	queued := map[string]bool{}
	for _, g := range garbage {
		queued[g.ObjectID] = true
	}
	byKey := map[string][]*Manifest{}
	for _, man := range versions {
		byKey[man.Key] = append(byKey[man.Key], man)
	}
	var dead []*Manifest
	for key, list := range byKey {
		cur, err := e.Meta.Get(bucket, key)
		if err != nil && !errors.Is(err, ErrNoObject) {
			return rep, err
		}
		var live *Manifest
		var rest []*Manifest
		for _, man := range list {
			if cur != nil && man.ObjectID == cur.ObjectID {
				continue
			}
			if queued[man.ObjectID] {
				continue // already queued for deletion
			}
			if killedBy(man, tombs) {
				rest = append(rest, man)
				continue
			}
			if live == nil || newer(man, live) {
				if live != nil {
					rest = append(rest, live)
				}
				live = man
				continue
			}
			rest = append(rest, man)
		}
		if live != nil && cur != nil && !newer(live, cur) {
			rest, live = append(rest, live), nil
		}
		dead = append(dead, rest...)
		if live == nil {
			continue
		}
		// Commit moves the current version, if any, to the garbage list.
		if _, err := e.Meta.Commit(live); err != nil {
			return rep, err
		}
		rep.Restored++
	}
	if err := e.Meta.addGarbage(dead); err != nil {
		return rep, err
	}
	rep.Removed = len(dead)
	return rep, e.CollectGarbage(ctx)
}

// killedBy reports whether the object's or the bucket's tombstone covers
// a version.
func killedBy(man *Manifest, tombs map[string]*Tombstone) bool {
	for _, k := range []string{man.Key, ""} {
		if t := tombs[k]; t != nil && t.kills(man) {
			return true
		}
	}
	return false
}

// scanBlocks reads the blocks of a kind under prefix on one store and
// hands each checked payload to use, which says whether it was valid.
// What cannot be read or fails its check is counted as skipped; a store
// that cannot be listed is skipped too (Recover works with the stores
// that are up).
func (e *Engine) scanBlocks(ctx context.Context, store, prefix string, kind byte, rep *RecoverReport, use func(key string, payload []byte) bool) error {
	s := e.store(store)
	_ = s.List(ctx, prefix, func(key string) error {
		rep.Scanned++
		raw, err := s.Get(ctx, key)
		if err == nil {
			var payload []byte
			if payload, err = openBlock(raw, kind); err == nil && use(key, payload) {
				return nil
			}
		}
		rep.Skipped++
		return nil
	})
	return ctx.Err()
}

// scanManifests reads the bucket's manifest copies on one store.
func (e *Engine) scanManifests(ctx context.Context, store, bucket string, into map[string]*Manifest, rep *RecoverReport) error {
	return e.scanBlocks(ctx, store, "manifests/"+bucket+"/", kindManifest, rep, func(key string, payload []byte) bool {
		man, err := DecodeManifest(payload)
		if err != nil || man.Bucket != bucket || key != manifestKey(man.Bucket, man.Key, man.ObjectID) {
			return false
		}
		if old := into[man.ObjectID]; old == nil || man.Rev > old.Rev {
			into[man.ObjectID] = man // a store that was down keeps an older copy
		}
		return true
	})
}

// scanTombstones reads the bucket's tombstones on one store, keeping the
// newest per object key and noting where each was found.
func (e *Engine) scanTombstones(ctx context.Context, store, bucket string, into map[string]*Tombstone, rep *RecoverReport) error {
	return e.scanBlocks(ctx, store, "tombstones/"+bucket+"/", kindTombstone, rep, func(key string, payload []byte) bool {
		t, err := DecodeTombstone(payload)
		if err != nil || t.Bucket != bucket || key != tombstoneKey(t.Bucket, t.Key) {
			return false
		}
		cur := into[t.Key]
		if cur == nil || t.Deleted.After(cur.Deleted) {
			if cur != nil {
				t.Stores = cur.Stores
			}
			cur, into[t.Key] = t, t
		}
		cur.Stores = appendNew(cur.Stores, store)
		return true
	})
}

// mergeTombstones joins the tombstones found on the stores with the ones
// the metadata knows of (newest deletion time, every store holding one),
// and records them so that CollectGarbage removes them in time.
func (e *Engine) mergeTombstones(bucket string, found map[string]*Tombstone) error {
	known, err := e.Meta.tombstones()
	if err != nil {
		return err
	}
	for _, k := range known {
		if k.Bucket != bucket {
			continue
		}
		t := found[k.Key]
		if t == nil {
			found[k.Key] = k
			continue
		}
		if k.Deleted.After(t.Deleted) {
			t.Deleted = k.Deleted
		}
		for _, s := range k.Stores {
			t.Stores = appendNew(t.Stores, s)
		}
	}
	keys := make([]string, 0, len(found))
	for k := range found {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := e.Meta.putTombstone(found[k]); err != nil {
			return err
		}
	}
	return nil
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func newer(a, b *Manifest) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.After(b.Created)
	}
	return a.ObjectID > b.ObjectID
}
