package placement

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketBuckets = []byte("buckets")

// ErrNoBucket means the data path has no bucket of that name.
var ErrNoBucket = errors.New("no such bucket")

// ErrBucketNotEmpty means a bucket still holds objects.
var ErrBucketNotEmpty = errors.New("bucket not empty")

// ErrBucketExists means a bucket of that name exists already.
var ErrBucketExists = errors.New("bucket exists")

// Bucket is a bucket of the data path: its name and the placement policy
// its new objects follow (the bucket class's, as NooBaa's tiering policy).
type Bucket struct {
	Name    string    `json:"name"`
	Policy  Policy    `json:"policy"`
	Created time.Time `json:"created"`
	// Class names the bucket class the policy came from, and Generation
	// its metadata.generation, so the policy can follow the class.
	Class      string `json:"class,omitempty"`
	Generation int64  `json:"generation,omitempty"`
	// Owner is the access key of the account that created the bucket over
	// S3; empty for a claim's bucket (its claim owns it).
	Owner string `json:"owner,omitempty"`
	// Namespace is NooBaa's namespace whose stores and class a bucket
	// created over S3 uses.
	Namespace string `json:"namespace,omitempty"`
}

// PutBucket creates or updates a bucket's record.
func (m *Meta) PutBucket(b Bucket) error { return m.putBucket(b, false, nil) }

// CreateBucket records a new bucket with its tags (S3 bucket tagging;
// nil for none) in one transaction; ErrBucketExists if the name is taken.
func (m *Meta) CreateBucket(b Bucket, tags map[string]string) error {
	return m.putBucket(b, true, tags)
}

// bucketSettings holds what S3 sets on a bucket besides its objects
// (tags, CORS, website, ownership), by bucket name and kind
// ("name\x00kind"), apart from the records the reconciler rewrites.
var bucketSettings = []byte("bucketSettings")

// Kinds of bucket settings.
const (
	SettingTags      = "tags"
	SettingCORS      = "cors"
	SettingWebsite   = "website"
	SettingOwnership = "ownership"
	SettingPolicy    = "policy"
)

func settingKey(bucket, kind string) []byte { return []byte(bucket + "\x00" + kind) }

// SetBucketSetting replaces one setting of a bucket (nil or empty
// removes it); ErrNoBucket if there is no such bucket.
func (m *Meta) SetBucketSetting(bucket, kind string, value []byte) error {
	defer m.forgetBucket(bucket)
	return m.update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoBucket, bucket)
		}
		return putSetting(tx, bucket, kind, value)
	})
}

func putSetting(tx *bolt.Tx, bucket, kind string, value []byte) error {
	bs := tx.Bucket(bucketSettings)
	if len(value) == 0 {
		return bs.Delete(settingKey(bucket, kind))
	}
	return bs.Put(settingKey(bucket, kind), value)
}

// BucketSetting returns one setting of a bucket (nil when it has none);
// ErrNoBucket if there is no such bucket.
//
// Settings may be read on every S3 request (CORS): while this process
// holds the file they are kept in memory, as bucket records are.
func (m *Meta) BucketSetting(bucket, kind string) ([]byte, error) {
	k := string(settingKey(bucket, kind))
	m.mu.Lock()
	v, ok := m.settings[k]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	var out []byte
	err := m.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBuckets).Get([]byte(bucket)) == nil {
			return fmt.Errorf("%w: %s", ErrNoBucket, bucket)
		}
		if v := tx.Bucket(bucketSettings).Get(settingKey(bucket, kind)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	if err == nil {
		m.mu.Lock()
		if m.hold {
			if m.settings == nil {
				m.settings = map[string][]byte{}
			}
			m.settings[k] = out
		}
		m.mu.Unlock()
	}
	return out, err
}

// MaxBucketTags is the most tags a bucket may have (S3's limit).
const MaxBucketTags = 50

// SetBucketTags replaces a bucket's tag set (nil or empty: none).
func (m *Meta) SetBucketTags(name string, tags map[string]string) error {
	raw, err := encodeTags(tags)
	if err != nil {
		return err
	}
	return m.SetBucketSetting(name, SettingTags, raw)
}

func encodeTags(tags map[string]string) ([]byte, error) {
	if len(tags) > MaxBucketTags {
		return nil, fmt.Errorf("%d tags: a bucket may have at most %d", len(tags), MaxBucketTags)
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return json.Marshal(tags)
}

// BucketTags returns a bucket's tag set (nil when it has none).
func (m *Meta) BucketTags(name string) (map[string]string, error) {
	raw, err := m.BucketSetting(name, SettingTags)
	if err != nil || raw == nil {
		return nil, err
	}
	var tags map[string]string
	if err := json.Unmarshal(raw, &tags); err != nil {
		return nil, fmt.Errorf("metadata: tags of bucket %s: %w", name, err)
	}
	return tags, nil
}

// putBucket writes a bucket's record, and its tags when there are any.
func (m *Meta) putBucket(b Bucket, mustBeNew bool, tags map[string]string) error {
	if b.Name == "" {
		return errors.New("bucket name is empty")
	}
	if err := b.Policy.Validate(); err != nil {
		return fmt.Errorf("bucket %s: %w", b.Name, err)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return err
	}
	defer m.forgetBucket(b.Name)
	return m.update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBuckets)
		if mustBeNew && bk.Get([]byte(b.Name)) != nil {
			return fmt.Errorf("%w: %s", ErrBucketExists, b.Name)
		}
		if len(tags) > 0 {
			encoded, err := encodeTags(tags)
			if err != nil {
				return err
			}
			if err := putSetting(tx, b.Name, SettingTags, encoded); err != nil {
				return err
			}
		}
		return bk.Put([]byte(b.Name), raw)
	})
}

// Bucket records are read on every S3 request (authorization, policy,
// placement). While this process holds the file no other writes it, so
// they are kept in memory, dropped on every change of the record.
func (m *Meta) cachedBucket(name string) (Bucket, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.hold {
		return Bucket{}, false
	}
	b, ok := m.buckets[name]
	return b, ok
}

func (m *Meta) rememberBucket(b Bucket) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.hold {
		return
	}
	if m.buckets == nil {
		m.buckets = map[string]Bucket{}
	}
	m.buckets[b.Name] = b
}

func (m *Meta) forgetBucket(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.buckets, name)
	for k := range m.settings {
		if strings.HasPrefix(k, name+"\x00") {
			delete(m.settings, k)
		}
	}
}

// Bucket returns a bucket's record.
func (m *Meta) Bucket(name string) (Bucket, error) {
	if b, ok := m.cachedBucket(name); ok {
		return b, nil
	}
	var b Bucket
	err := m.view(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBuckets)
		var raw []byte
		if bk != nil {
			raw = bk.Get([]byte(name))
		}
		if raw == nil {
			return fmt.Errorf("%w: %s", ErrNoBucket, name)
		}
		return json.Unmarshal(raw, &b)
	})
	if err == nil {
		m.rememberBucket(b)
	}
	return b, err
}

// Buckets lists every bucket's record, by name.
func (m *Meta) Buckets() ([]Bucket, error) {
	var out []Bucket
	err := m.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBuckets).ForEach(func(k, v []byte) error {
			var b Bucket
			if err := json.Unmarshal(v, &b); err != nil {
				return fmt.Errorf("metadata: bucket %q: %w", k, err)
			}
			out = append(out, b)
			return nil
		})
	})
	return out, err
}

// RemoveBucket drops a bucket and, in the same transaction, every object
// and upload in progress in it: their blocks go to the garbage list for
// CollectGarbage.
func (m *Meta) RemoveBucket(name string) error {
	return m.removeBucket(name, false)
}

// removeBucket is RemoveBucket; with ifEmpty it fails with
// ErrBucketNotEmpty, changing nothing, while the bucket holds an object
// (uploads in progress do not count: S3 deletes them with the bucket).
func (m *Meta) removeBucket(name string, ifEmpty bool) error {
	defer m.forgetBucket(name)
	return m.update(func(tx *bolt.Tx) error {
		var uploads []Upload
		prefix := []byte(name + "\x00")
		if k, _ := tx.Bucket(bucketObjects).Cursor().Seek(prefix); ifEmpty && k != nil && bytes.HasPrefix(k, prefix) {
			return fmt.Errorf("%s: %w", name, ErrBucketNotEmpty)
		}
		c := tx.Bucket(bucketUploads).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var u Upload
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("metadata: upload %q: %w", k, err)
			}
			uploads = append(uploads, u)
		}
		for _, u := range uploads {
			if _, err := dropUpload(tx, u.Bucket, u.Key, u.ID); err != nil {
				return err
			}
		}
		objs, garbage := tx.Bucket(bucketObjects), tx.Bucket(bucketGarbage)
		var keys [][]byte
		c = objs.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			man, err := DecodeManifest(v)
			if err != nil {
				return err
			}
			if err := garbage.Put([]byte(man.ObjectID), v); err != nil {
				return err
			}
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := objs.Delete(k); err != nil {
				return err
			}
		}
		// Its settings.
		var settings [][]byte
		sc := tx.Bucket(bucketSettings).Cursor()
		for k, _ := sc.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = sc.Next() {
			settings = append(settings, append([]byte(nil), k...))
		}
		for _, k := range settings {
			if err := tx.Bucket(bucketSettings).Delete(k); err != nil {
				return err
			}
		}
		if care := tx.Bucket(bucketCare); care != nil {
			if err := care.Delete([]byte(name)); err != nil {
				return err
			}
		}
		if bk := tx.Bucket(bucketBuckets); bk != nil {
			return bk.Delete([]byte(name))
		}
		return nil
	})
}

// DeleteBucket removes a bucket with all its objects and deletes their
// blocks from the stores that are up; blocks on a store that is down stay
// on the garbage list until CollectGarbage reaches them.
func (e *Engine) DeleteBucket(ctx context.Context, name string) error {
	return e.deleteBucket(ctx, name, false)
}

// DeleteEmptyBucket is DeleteBucket for a bucket that holds no object
// (ErrBucketNotEmpty otherwise, checked in the removal's transaction);
// its uploads in progress are aborted, as S3's DeleteBucket does.
func (e *Engine) DeleteEmptyBucket(ctx context.Context, name string) error {
	return e.deleteBucket(ctx, name, true)
}

func (e *Engine) deleteBucket(ctx context.Context, name string, ifEmpty bool) error {
	if err := e.Meta.removeBucket(name, ifEmpty); err != nil {
		return err
	}
	if err := e.CollectGarbage(ctx); err != nil {
		return err
	}
	return e.markDeleted(ctx, name, "")
}
