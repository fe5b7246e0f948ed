package placement

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketUploads = []byte("uploads")
	bucketParts   = []byte("parts")
)

// Errors of multipart uploads.
var (
	ErrNoUpload = errors.New("no such upload")
	// ErrInvalidPart: a part to complete with was not uploaded, or its
	// ETag differs.
	ErrInvalidPart = errors.New("invalid part")
	// ErrPartOrder: the parts to complete with are not in ascending order.
	ErrPartOrder = errors.New("parts not in ascending order")
	// ErrPartTooSmall: a part but the last is smaller than MinPartSize.
	ErrPartTooSmall = errors.New("part too small")
)

// Multipart limits, as S3's.
const (
	MinPartSize = 5 << 20
	MaxParts    = 10000
)

// Upload is a multipart upload in progress: the object it will become and
// the policy its parts are written with (the bucket's when it began, so
// that every part of one object follows one policy).
type Upload struct {
	Bucket    string    `json:"bucket"`
	Key       string    `json:"key"`
	ID        string    `json:"id"`
	Initiated time.Time `json:"initiated"`
	Policy    Policy    `json:"policy"`
	Attrs     *Attrs    `json:"attrs,omitempty"`
}

func uploadKey(bucket, key, id string) []byte { return []byte(bucket + "\x00" + key + "\x00" + id) }

func partKey(id string, n int) []byte { return []byte(fmt.Sprintf("%s\x00%05d", id, n)) }

// CreateUpload begins a multipart upload of bucket/key.
func (e *Engine) CreateUpload(bucket, key string, pol Policy, attrs *Attrs) (Upload, error) {
	if err := pol.Validate(); err != nil {
		return Upload{}, err
	}
	id, err := newObjectID()
	if err != nil {
		return Upload{}, err
	}
	u := Upload{Bucket: bucket, Key: key, ID: id, Initiated: e.now(), Policy: pol, Attrs: attrs}
	raw, err := json.Marshal(u)
	if err != nil {
		return Upload{}, err
	}
	err = e.Meta.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUploads).Put(uploadKey(bucket, key, id), raw)
	})
	if err != nil {
		return Upload{}, fmt.Errorf("metadata: %w", err)
	}
	return u, nil
}

// Upload returns an upload in progress.
func (e *Engine) Upload(bucket, key, id string) (Upload, error) {
	var u Upload
	err := e.Meta.view(func(tx *bolt.Tx) error {
		var err error
		u, err = getUpload(tx, bucket, key, id)
		return err
	})
	return u, err
}

func getUpload(tx *bolt.Tx, bucket, key, id string) (Upload, error) {
	var u Upload
	raw := tx.Bucket(bucketUploads).Get(uploadKey(bucket, key, id))
	if raw == nil {
		return u, fmt.Errorf("%w: %s", ErrNoUpload, id)
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("metadata: upload %s: %w", id, err)
	}
	return u, nil
}

// Uploads lists a bucket's uploads in progress, by key and then by when
// they began.
func (e *Engine) Uploads(bucket string) ([]Upload, error) {
	var out []Upload
	err := e.Meta.view(func(tx *bolt.Tx) error {
		prefix := []byte(bucket + "\x00")
		c := tx.Bucket(bucketUploads).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var u Upload
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("metadata: upload %q: %w", k, err)
			}
			out = append(out, u)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	return out, err
}

// PutPart writes part n of an upload: its blocks and extents are on the
// stores and the part is recorded, but nothing is visible until the
// upload completes. A part uploaded again replaces the earlier one.
// opt.Attrs becomes the part's (its ETag); Precondition is not used.
func (e *Engine) PutPart(ctx context.Context, bucket, key, id string, n int, r io.Reader, opt PutOptions) (*Manifest, error) {
	if n < 1 || n > MaxParts {
		return nil, fmt.Errorf("%w: part number %d (1 to %d)", ErrInvalidPart, n, MaxParts)
	}
	u, err := e.Upload(bucket, key, id)
	if err != nil {
		return nil, err
	}
	opt.NoSHA256 = true
	man, st, err := e.writeObject(ctx, bucket, key, u.Policy, r, opt)
	if err == nil && opt.Finish != nil {
		err = opt.Finish(man)
	}
	var replaced *Manifest
	if err == nil {
		replaced, err = e.commitPart(u, n, man)
	}
	if err != nil {
		if st != nil {
			e.discard(ctx, st, nil)
		}
		return nil, fmt.Errorf("upload part %d of %s/%s: %w", n, bucket, key, err)
	}
	if replaced != nil {
		e.collectLater(context.WithoutCancel(ctx), replaced)
	}
	return man, nil
}

// commitPart records a part if its upload is still in progress. Parts
// uploaded at once (a transfer manager sends four or more) share one
// metadata commit, as objects do.
func (e *Engine) commitPart(u Upload, n int, man *Manifest) (replaced *Manifest, err error) {
	raw, err := EncodeManifest(man)
	if err != nil {
		return nil, err
	}
	err = e.Meta.updateGrouped(func(tx *bolt.Tx) error {
		replaced = nil
		if _, err := getUpload(tx, u.Bucket, u.Key, u.ID); err != nil {
			return err
		}
		parts := tx.Bucket(bucketParts)
		k := partKey(u.ID, n)
		if old := parts.Get(k); old != nil {
			if replaced, err = DecodeManifest(old); err != nil {
				return err
			}
			if err := tx.Bucket(bucketGarbage).Put([]byte(replaced.ObjectID), old); err != nil {
				return err
			}
		}
		return parts.Put(k, raw)
	})
	return replaced, err
}

// UploadedPart is a part as ListParts reports it.
type UploadedPart struct {
	Number   int
	Size     int64
	ETag     string
	Modified time.Time
	Attrs    *Attrs
}

// Parts lists an upload's parts in order.
func (e *Engine) Parts(bucket, key, id string) ([]UploadedPart, error) {
	var out []UploadedPart
	err := e.Meta.view(func(tx *bolt.Tx) error {
		if _, err := getUpload(tx, bucket, key, id); err != nil {
			return err
		}
		mans, err := uploadParts(tx, id)
		for _, p := range mans {
			out = append(out, UploadedPart{Number: p.n, Size: p.man.Size, ETag: p.man.etag(), Modified: p.man.Created, Attrs: p.man.Attrs})
		}
		return err
	})
	return out, err
}

type numberedPart struct {
	n   int
	man *Manifest
}

func uploadParts(tx *bolt.Tx, id string) ([]numberedPart, error) {
	var out []numberedPart
	prefix := []byte(id + "\x00")
	c := tx.Bucket(bucketParts).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var n int
		if _, err := fmt.Sscanf(string(k[len(prefix):]), "%d", &n); err != nil {
			return nil, fmt.Errorf("metadata: part %q: %w", k, err)
		}
		man, err := DecodeManifest(v)
		if err != nil {
			return nil, err
		}
		out = append(out, numberedPart{n, man})
	}
	return out, nil
}

func (m *Manifest) etag() string {
	if m.Attrs == nil {
		return ""
	}
	return m.Attrs.ETag
}

// CompletedPart names a part to complete an upload with.
type CompletedPart struct {
	Number int
	ETag   string
}

// CompleteUpload makes the upload's listed parts, in order, the object's
// new version. Its chunks are the parts' chunks: no byte is copied. Parts
// not listed are deleted. finish sets the object's attributes (its ETag)
// before it becomes visible.
func (e *Engine) CompleteUpload(ctx context.Context, bucket, key, id string, list []CompletedPart, finish func(*Manifest) error) (*Manifest, error) {
	var u Upload
	var have []numberedPart
	err := e.Meta.view(func(tx *bolt.Tx) error {
		var err error
		if u, err = getUpload(tx, bucket, key, id); err != nil {
			return err
		}
		have, err = uploadParts(tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	byNum := map[int]*Manifest{}
	for _, p := range have {
		byNum[p.n] = p.man
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no parts to complete with", ErrInvalidPart)
	}
	objID, err := newObjectID()
	if err != nil {
		return nil, err
	}
	man := &Manifest{Version: ManifestVersion, Bucket: bucket, Key: key, ObjectID: objID, ChunkSize: e.chunkSize(),
		Tiers: u.Policy.Tiers, Created: e.now(), Attrs: u.Attrs, Upload: id}
	used := map[string]bool{}
	for i, cp := range list {
		if i > 0 && cp.Number <= list[i-1].Number {
			return nil, fmt.Errorf("%w: part %d after part %d", ErrPartOrder, cp.Number, list[i-1].Number)
		}
		p := byNum[cp.Number]
		if p == nil || strings.Trim(cp.ETag, `"`) != p.etag() {
			return nil, fmt.Errorf("%w: part %d was not uploaded with ETag %s", ErrInvalidPart, cp.Number, cp.ETag)
		}
		if i < len(list)-1 && p.Size < MinPartSize {
			return nil, fmt.Errorf("%w: part %d is %d bytes, less than %d", ErrPartTooSmall, cp.Number, p.Size, MinPartSize)
		}
		if p.ChunkSize != man.ChunkSize {
			return nil, fmt.Errorf("%w: part %d was written in chunks of %d bytes, not %d", ErrInvalidPart, cp.Number, p.ChunkSize, man.ChunkSize)
		}
		man.Chunks = append(man.Chunks, p.Chunks...)
		man.Size += p.Size
		man.Degraded = man.Degraded || p.Degraded
		man.Parts = append(man.Parts, Part{Number: cp.Number, ObjectID: p.ObjectID, Size: p.Size, ETag: p.etag()})
		used[p.ObjectID] = true
	}
	if finish != nil {
		if err := finish(man); err != nil {
			return nil, err
		}
	}
	if err := e.writeManifestBlocks(ctx, man); err != nil {
		return nil, err
	}
	raw, err := EncodeManifest(man)
	if err != nil {
		return nil, err
	}
	var replaced *Manifest
	var unused []*Manifest
	err = e.Meta.update(func(tx *bolt.Tx) error {
		replaced, unused = nil, nil
		if _, err := getUpload(tx, bucket, key, id); err != nil {
			return err
		}
		now, err := uploadParts(tx, id)
		if err != nil {
			return err
		}
		garbage := tx.Bucket(bucketGarbage)
		for _, p := range now {
			if used[p.man.ObjectID] {
				delete(used, p.man.ObjectID)
			} else if raw, err := EncodeManifest(p.man); err != nil {
				return err
			} else if err := garbage.Put([]byte(p.man.ObjectID), raw); err != nil {
				return err
			} else {
				unused = append(unused, p.man)
			}
			if err := tx.Bucket(bucketParts).Delete(partKey(id, p.n)); err != nil {
				return err
			}
		}
		if len(used) > 0 {
			return fmt.Errorf("%w: a part was uploaded again meanwhile", ErrInvalidPart)
		}
		if err := tx.Bucket(bucketUploads).Delete(uploadKey(bucket, key, id)); err != nil {
			return err
		}
		objs := tx.Bucket(bucketObjects)
		k := objectKey(bucket, key)
		if old := objs.Get(k); old != nil {
			if replaced, err = DecodeManifest(old); err != nil {
				return err
			}
			if err := garbage.Put([]byte(replaced.ObjectID), old); err != nil {
				return err
			}
		}
		return objs.Put(k, raw)
	})
	if err != nil {
		e.deleteBlocks(context.WithoutCancel(ctx), manifestCopies(man))
		return nil, fmt.Errorf("complete %s/%s: %w", bucket, key, err)
	}
	cctx := context.WithoutCancel(ctx)
	for _, m := range append(unused, replaced) {
		if m != nil {
			e.collectLater(cctx, m)
		}
	}
	return man, nil
}

// AbortUpload ends an upload and deletes its parts.
func (e *Engine) AbortUpload(ctx context.Context, bucket, key, id string) error {
	var gone []*Manifest
	err := e.Meta.update(func(tx *bolt.Tx) error {
		gone = nil
		if _, err := getUpload(tx, bucket, key, id); err != nil {
			return err
		}
		var err error
		if gone, err = dropUpload(tx, bucket, key, id); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range gone {
		e.collect(context.WithoutCancel(ctx), m)
	}
	return nil
}

// dropUpload removes an upload and moves its parts to the garbage list.
func dropUpload(tx *bolt.Tx, bucket, key, id string) ([]*Manifest, error) {
	parts, err := uploadParts(tx, id)
	if err != nil {
		return nil, err
	}
	var gone []*Manifest
	for _, p := range parts {
		raw, err := EncodeManifest(p.man)
		if err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketGarbage).Put([]byte(p.man.ObjectID), raw); err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketParts).Delete(partKey(id, p.n)); err != nil {
			return nil, err
		}
		gone = append(gone, p.man)
	}
	return gone, tx.Bucket(bucketUploads).Delete(uploadKey(bucket, key, id))
}

// manifestCopies are the keys of a manifest's copies on its stores.
func manifestCopies(man *Manifest) []Block {
	var out []Block
	for _, s := range man.stores() {
		out = append(out, Block{Store: s, Key: manifestKey(man.Bucket, man.Key, man.ObjectID)})
	}
	return out
}
