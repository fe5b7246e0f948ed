package placement

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nbctl/nb/pkg/boltfile"
)

var (
	bucketObjects = []byte("objects")
	bucketGarbage = []byte("garbage")
)

// ErrNoObject means the bucket has no object under the key.
var ErrNoObject = errors.New("no such object")

// ErrReplaced means an object changed version between a read of its
// manifest and an update of it (a PUT or DELETE won): the update is moot.
var ErrReplaced = errors.New("replaced meanwhile")

// Meta is the embedded metadata store (bbolt): the current manifest of
// every object, and the manifests of replaced objects whose blocks are
// still to be deleted. Swapping a manifest is one transaction, which is
// what makes an object's replacement atomic.
//
// bbolt locks its file for as long as it is open, so by default Meta opens
// the file for each transaction (or for a run of transactions that overlap
// in this process) and closes it after: several nb processes then take
// turns, none holding the lock longer than a transaction. The one process
// that owns the data path (nb serve) calls Hold to keep it open.
type Meta struct {
	path string
	// Timeout bounds the wait for another process's transaction.
	Timeout time.Duration

	mu   sync.Mutex
	db   *bolt.DB
	refs int
	hold bool

	// group is the queue of commits waiting for the one being made
	// (updateGrouped).
	groupMu   sync.Mutex
	group     []*groupedUpdate
	groupBusy bool

	cacheMu sync.Mutex
	cache   map[string]decoded
	// rewrites orders the rewrites of a version's manifest (a tag change,
	// a repair) with the writing of its copies on the stores, so that the
	// last copy written is the last manifest committed (lockObject).
	rewrites [64]sync.Mutex
	// buckets are the bucket records while the file is held (mu).
	buckets map[string]Bucket
	// settings are the bucket settings read while the file is held (mu),
	// nil values for none (BucketSetting).
	settings map[string][]byte
}

// DefaultMetaTimeout is how long a transaction waits for the file lock
// another process holds. Transactions are short; the bound only turns a
// process that hangs with the file open into an error.
const DefaultMetaTimeout = 2 * time.Minute

// OpenMeta prepares (creating) the metadata file. It does not keep the
// file open (see Meta).
func OpenMeta(path string) (*Meta, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	m := &Meta{path: path, Timeout: DefaultMetaTimeout}
	err := m.update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketObjects, bucketGarbage, bucketTombstones, bucketBuckets, bucketUploads, bucketParts, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Path is the metadata file.
func (m *Meta) Path() string { return m.path }

// Hold keeps the file open (and locked against other processes) until
// Close: for the process that owns the data path.
func (m *Meta) Hold() error {
	db, err := m.acquire()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.hold = true
	m.mu.Unlock()
	m.release(db)
	return nil
}

// Close closes the file if it is open; later transactions open it again.
func (m *Meta) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hold, m.buckets = false, nil
	if m.db == nil || m.refs > 0 {
		return nil
	}
	err := m.db.Close()
	m.db = nil
	return err
}

// acquire returns the open file, opening it when no transaction of this
// process has it open.
func (m *Meta) acquire() (*bolt.DB, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.db == nil {
		timeout := m.Timeout
		if timeout <= 0 {
			timeout = DefaultMetaTimeout
		}
		db, err := boltfile.Open(m.path, 0o600, &bolt.Options{Timeout: timeout})
		if boltfile.IsDamaged(err) {
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("metadata %s: %w", m.path, err)
		}
		m.db = db
	}
	m.refs++
	return m.db, nil
}

// release closes the file after the last transaction of this process
// that had it open, unless it is held.
func (m *Meta) release(db *bolt.DB) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refs--
	if m.refs == 0 && !m.hold && m.db == db {
		_ = m.db.Close()
		m.db = nil
	}
}

func (m *Meta) view(fn func(*bolt.Tx) error) error {
	db, err := m.acquire()
	if err != nil {
		return err
	}
	defer m.release(db)
	return boltfile.View(db, fn)
}

func (m *Meta) update(fn func(*bolt.Tx) error) error {
	db, err := m.acquire()
	if err != nil {
		return err
	}
	defer m.release(db)
	return boltfile.Update(db, fn)
}

// groupedUpdate is one transaction function waiting in the queue.
type groupedUpdate struct {
	// before, when set, runs (by the group's leader, alongside the others'
	// befores) before the transaction; an error fails this update only.
	before func() error
	fn     func(*bolt.Tx) error
	err    error
	lead   bool
	done   chan struct{}
}

// updateGrouped runs fn in a write transaction shared with the commits
// that queued while the previous one was being made: one transaction and
// one pair of syncs for all of them (bbolt makes every transaction wait
// for the one before). The first caller to find none in progress makes
// it; when it is done, the first one queued meanwhile makes the next.
// fn may run more than once (it must reset what it records): when one
// function of a group fails, each runs again in a transaction of its own.
func (m *Meta) updateGrouped(fn func(*bolt.Tx) error) error {
	return m.updateGroupedAfter(nil, fn)
}

// updateGroupedAfter is updateGrouped with before run first, by the
// leader, for every update of the group at once (pack syncs: a record
// must be durable before the commit that names it).
func (m *Meta) updateGroupedAfter(before func() error, fn func(*bolt.Tx) error) error {
	r := &groupedUpdate{before: before, fn: fn, done: make(chan struct{})}
	m.groupMu.Lock()
	m.group = append(m.group, r)
	if m.groupBusy {
		m.groupMu.Unlock()
		<-r.done
		if !r.lead {
			return r.err
		}
		m.groupMu.Lock()
	}
	m.groupBusy = true
	batch := m.group
	m.group = nil
	m.groupMu.Unlock()

	m.runGroup(batch)

	m.groupMu.Lock()
	var next *groupedUpdate
	if len(m.group) > 0 {
		next = m.group[0]
		next.lead = true
	} else {
		m.groupBusy = false
	}
	m.groupMu.Unlock()
	for _, q := range batch {
		if q != r {
			close(q.done)
		}
	}
	if next != nil {
		close(next.done)
	}
	return r.err
}

func (m *Meta) runGroup(batch []*groupedUpdate) {
	var wg sync.WaitGroup
	for _, q := range batch {
		if q.before != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.err = q.before()
			}()
		}
	}
	wg.Wait()
	ready := batch[:0:0]
	for _, q := range batch {
		if q.err == nil {
			ready = append(ready, q)
		}
	}
	batch = ready
	if len(batch) == 0 {
		return
	}
	if len(batch) == 1 {
		batch[0].err = m.update(batch[0].fn)
		return
	}
	failed := false
	err := m.update(func(tx *bolt.Tx) error {
		for _, q := range batch {
			if err := q.fn(tx); err != nil {
				failed = true
				return err
			}
		}
		return nil
	})
	if err == nil || !failed {
		for _, q := range batch {
			q.err = err
		}
		return
	}
	for _, q := range batch {
		q.err = m.update(q.fn)
	}
}

func objectKey(bucket, key string) []byte { return []byte(bucket + "\x00" + key) }

// Get returns an object's current manifest.
func (m *Meta) Get(bucket, key string) (*Manifest, error) {
	var raw []byte
	var hit *Manifest
	k := objectKey(bucket, key)
	err := m.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketObjects).Get(k)
		if v == nil {
			return nil
		}
		if hit = m.cached(string(k), v); hit == nil {
			raw = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if hit != nil {
		return hit, nil
	}
	if raw == nil {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoObject, bucket, key)
	}
	man, err := DecodeManifest(raw)
	if err == nil {
		m.remember(string(k), raw, man)
	}
	return man, err
}

// decoded is a manifest kept decoded with the bytes it was decoded from.
type decoded struct {
	raw []byte
	man *Manifest
}

// Large manifests (a GiB object has hundreds of chunks) cost more to
// decode than the read of a range of them: a server reading the same
// object part after part keeps the last ones decoded, checked against the
// stored bytes on every use.
const (
	cacheMinChunks = 16
	cacheEntries   = 64
)

func (m *Meta) cached(k string, raw []byte) *Manifest {
	m.cacheMu.Lock()
	d, ok := m.cache[k]
	m.cacheMu.Unlock()
	if !ok || !bytes.Equal(d.raw, raw) {
		return nil
	}
	return d.man.clone()
}

func (m *Meta) remember(k string, raw []byte, man *Manifest) {
	if len(man.Chunks) < cacheMinChunks {
		return
	}
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if m.cache == nil {
		m.cache = map[string]decoded{}
	}
	if len(m.cache) >= cacheEntries {
		for old := range m.cache { // any one: map order is random enough
			delete(m.cache, old)
			break
		}
	}
	m.cache[k] = decoded{raw: raw, man: man.clone()}
}

// Commit makes man the object's current version; the one it replaces, if
// any, moves to the garbage list in the same transaction.
func (m *Meta) Commit(man *Manifest) (replaced *Manifest, err error) {
	return m.CommitIf(man, nil)
}

// CommitIf is Commit when cond, given the current version (nil for none)
// in the same transaction, returns nil; its error otherwise.
func (m *Meta) CommitIf(man *Manifest, cond func(current *Manifest) error) (replaced *Manifest, err error) {
	return m.commitAfter(man, cond, nil)
}

// commitAfter is CommitIf with before run first, in the group's leader
// (see updateGroupedAfter): its error fails the commit.
func (m *Meta) commitAfter(man *Manifest, cond func(current *Manifest) error, before func() error) (replaced *Manifest, err error) {
	raw, err := EncodeManifest(man)
	if err != nil {
		return nil, err
	}
	err = m.updateGroupedAfter(before, func(tx *bolt.Tx) error {
		replaced = nil
		objs := tx.Bucket(bucketObjects)
		k := objectKey(man.Bucket, man.Key)
		if old := objs.Get(k); old != nil {
			if replaced, err = DecodeManifest(old); err != nil {
				return err
			}
		}
		same := replaced != nil && replaced.ObjectID == man.ObjectID
		if cond != nil {
			if err := cond(replaced); err != nil {
				return err
			}
		}
		if replaced != nil {
			if same {
				replaced = nil
			} else if err := tx.Bucket(bucketGarbage).Put([]byte(replaced.ObjectID), objs.Get(k)); err != nil {
				return err
			}
		}
		if !same {
			if _, err := countPacks(tx, man, 1); err != nil {
				return err
			}
		}
		return objs.Put(k, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("metadata commit %s/%s: %w", man.Bucket, man.Key, err)
	}
	return replaced, nil
}

// Remove drops the object and queues its blocks for deletion.
func (m *Meta) Remove(bucket, key string) (*Manifest, error) {
	return m.RemoveIf(bucket, key, nil)
}

// RemoveIf is Remove when cond, given the current version in the same
// transaction, returns nil; its error otherwise.
func (m *Meta) RemoveIf(bucket, key string, cond func(current *Manifest) error) (*Manifest, error) {
	var gone *Manifest
	err := m.update(func(tx *bolt.Tx) error {
		objs := tx.Bucket(bucketObjects)
		k := objectKey(bucket, key)
		old := objs.Get(k)
		if old == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoObject, bucket, key)
		}
		var err error
		if gone, err = DecodeManifest(old); err != nil {
			return err
		}
		if cond != nil {
			if err := cond(gone); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketGarbage).Put([]byte(gone.ObjectID), old); err != nil {
			return err
		}
		return objs.Delete(k)
	})
	return gone, err
}

// Garbage lists replaced manifests whose blocks are still to be deleted.
func (m *Meta) Garbage() ([]*Manifest, error) {
	return m.decodeAll(bucketGarbage, nil)
}

// decodeAll decodes the manifests of a bucket of buckets.db, those keep
// accepts (nil: every one), in one read transaction.
func (m *Meta) decodeAll(bucket []byte, keep func(raw []byte) bool) ([]*Manifest, error) {
	var out []*Manifest
	err := m.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
			if keep != nil && !keep(v) {
				return nil
			}
			man, err := DecodeManifest(v)
			if err != nil {
				return err
			}
			out = append(out, man)
			return nil
		})
	})
	return out, err
}

// Forget drops the garbage entries of versions once their blocks are
// deleted (each as listed: a garbage entry never changes), and returns
// the packs they leave without a version (store\x00key).
func (m *Meta) Forget(versions ...*Manifest) ([]string, error) {
	if len(versions) == 0 {
		return nil, nil
	}
	var zero []string
	err := m.updateGrouped(func(tx *bolt.Tx) error {
		g := tx.Bucket(bucketGarbage)
		zero = nil
		for _, man := range versions {
			id := man.ObjectID
			if g.Get([]byte(id)) != nil {
				z, err := countPacks(tx, man, -1)
				if err != nil {
					return err
				}
				for _, r := range z {
					if !slices.Contains(zero, r) {
						zero = append(zero, r)
					}
				}
			}
			if err := g.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	return zero, err
}

// List returns the current manifests of a bucket ("" for all buckets).
func (m *Meta) List(bucket string) ([]*Manifest, error) {
	var out []*Manifest
	err := m.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketObjects).Cursor()
		prefix := []byte(bucket + "\x00")
		var k, v []byte
		if bucket == "" {
			k, v = c.First()
		} else {
			k, v = c.Seek(prefix)
		}
		for ; k != nil; k, v = c.Next() {
			if bucket != "" && !bytes.HasPrefix(k, prefix) {
				break
			}
			man, err := DecodeManifest(v)
			if err != nil {
				return err
			}
			out = append(out, man)
		}
		return nil
	})
	return out, err
}

// lockObject serializes the manifest rewrites of one object in this
// process (its caller holds the lock from the commit to the last copy
// written on the stores). Only the process that owns the data path
// rewrites manifests while a server runs.
func (m *Meta) lockObject(bucket, key string) (unlock func()) {
	h := fnv.New32a()
	h.Write(objectKey(bucket, key))
	mu := &m.rewrites[h.Sum32()%uint32(len(m.rewrites))]
	mu.Lock()
	return mu.Unlock
}

// Update rewrites the current manifest of an object if it is still the
// same version (heal and scrub use it after repairing blocks). What the
// repair does not own is taken from the current manifest in the same
// transaction (attributes a tag change set meanwhile, whether copies are
// on every store), and the revision goes up: man is what was stored.
func (m *Meta) Update(man *Manifest) error {
	return m.update(func(tx *bolt.Tx) error {
		objs := tx.Bucket(bucketObjects)
		k := objectKey(man.Bucket, man.Key)
		cur := objs.Get(k)
		if cur == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoObject, man.Bucket, man.Key)
		}
		old, err := DecodeManifest(cur)
		if err != nil {
			return err
		}
		if old.ObjectID != man.ObjectID {
			return fmt.Errorf("%s/%s: %w", man.Bucket, man.Key, ErrReplaced)
		}
		man.Attrs, man.Copies, man.Rev = old.Attrs, old.Copies, old.Rev+1
		raw, err := EncodeManifest(man)
		if err != nil {
			return err
		}
		// A pack block a repair dropped no longer counts.
		var gone []string
		kept := packRefs(man)
		for _, r := range packRefs(old) {
			if !slices.Contains(kept, r) {
				gone = append(gone, r)
			}
		}
		if _, err := countRefs(tx, gone, -1); err != nil {
			return err
		}
		return objs.Put(k, raw)
	})
}

// SetTags replaces the tag set of an object's current version (nil or
// empty: none) and returns the manifest stored. A packed object's
// manifest is from then on copied to every store holding a block of it
// (Copies), since its pack records keep the tags it was written with.
func (m *Meta) SetTags(bucket, key string, tags map[string]string) (*Manifest, error) {
	if len(tags) > MaxTags {
		return nil, fmt.Errorf("%d tags: an object may have at most %d", len(tags), MaxTags)
	}
	var man *Manifest
	err := m.update(func(tx *bolt.Tx) error {
		objs := tx.Bucket(bucketObjects)
		k := objectKey(bucket, key)
		cur := objs.Get(k)
		if cur == nil {
			return fmt.Errorf("%w: %s/%s", ErrNoObject, bucket, key)
		}
		var err error
		if man, err = DecodeManifest(cur); err != nil {
			return err
		}
		if man.Attrs == nil {
			man.Attrs = &Attrs{}
		}
		man.Attrs.Tags = nil
		if len(tags) > 0 {
			man.Attrs.Tags = maps.Clone(tags)
		}
		man.Rev++
		man.Copies = man.Copies || len(packRefs(man)) > 0
		raw, err := EncodeManifest(man)
		if err != nil {
			return err
		}
		return objs.Put(k, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return man, nil
}
