package placement

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketCare holds the last heal and scrub of each bucket, apart from the
// bucket record (which the reconciler rewrites as its class changes).
var bucketCare = []byte("care")

// CareRun is the outcome of one heal or scrub of a bucket.
type CareRun struct {
	Finished time.Time `json:"finished"`
	Objects  int       `json:"objects"`
	Repaired int       `json:"repaired"`
	Missing  int       `json:"missing"`
	// Lost are the objects no copy or parity could rebuild (at most
	// maxLostListed of them; LostCount has them all).
	Lost      []string `json:"lost,omitempty"`
	LostCount int      `json:"lostCount"`
}

// maxLostListed bounds the names kept in a CareRun.
const maxLostListed = 100

// Care is what background care last did for a bucket.
type Care struct {
	Heal  *CareRun `json:"heal,omitempty"`
	Scrub *CareRun `json:"scrub,omitempty"`
}

// RecordCare stores the outcome of a heal or scrub ("heal", "scrub").
func (m *Meta) RecordCare(bucket, kind string, rep RepairReport, at time.Time) error {
	run := &CareRun{Finished: at.UTC(), Objects: rep.Objects, Repaired: rep.Repaired, Missing: rep.Missing, LostCount: len(rep.Lost)}
	run.Lost = rep.Lost[:min(len(rep.Lost), maxLostListed)]
	return m.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketCare)
		if err != nil {
			return err
		}
		var c Care
		if raw := b.Get([]byte(bucket)); raw != nil {
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("metadata: care of %q: %w", bucket, err)
			}
		}
		switch kind {
		case "heal":
			c.Heal = run
		case "scrub":
			c.Scrub = run
		default:
			return fmt.Errorf("unknown care %q", kind)
		}
		raw, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return b.Put([]byte(bucket), raw)
	})
}

// CareOf returns what care last did for a bucket (zero when nothing yet).
func (m *Meta) CareOf(bucket string) (Care, error) {
	var c Care
	err := m.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCare)
		if b == nil {
			return nil
		}
		if raw := b.Get([]byte(bucket)); raw != nil {
			return json.Unmarshal(raw, &c)
		}
		return nil
	})
	return c, err
}

// Usage is what a bucket holds.
type Usage struct {
	Objects  int64 `json:"objects"`
	Bytes    int64 `json:"bytes"`
	Degraded int64 `json:"degraded"`
	// Uploads counts the multipart uploads in progress.
	Uploads int64 `json:"uploads"`
	// Misplaced counts the objects written with other tiers than the
	// bucket's policy now has (a rebalance moves them).
	Misplaced int64 `json:"misplaced"`
}

// UsageOf counts a bucket's objects, their bytes, the degraded ones and
// those its policy no longer describes.
func (m *Meta) UsageOf(bucket string) (Usage, error) {
	var u Usage
	rec, err := m.Bucket(bucket)
	if err != nil {
		return u, err
	}
	list, err := m.List(bucket)
	if err != nil {
		return u, err
	}
	for _, man := range list {
		u.Objects++
		u.Bytes += man.Size
		if man.Degraded {
			u.Degraded++
		}
		if Misplaced(man, rec.Policy) {
			u.Misplaced++
		}
	}
	err = m.view(func(tx *bolt.Tx) error {
		prefix := []byte(bucket + "\x00")
		c := tx.Bucket(bucketUploads).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			u.Uploads++
		}
		return nil
	})
	return u, err
}

// AbortStaleUploads aborts the multipart uploads of a bucket ("" for
// every bucket) initiated before cutoff, and returns how many: a client
// that never completes nor aborts an upload would otherwise keep its
// parts' blocks for good.
func (e *Engine) AbortStaleUploads(ctx context.Context, bucket string, cutoff time.Time) (int, error) {
	buckets := []string{bucket}
	if bucket == "" {
		all, err := e.Meta.Buckets()
		if err != nil {
			return 0, err
		}
		buckets = buckets[:0]
		for _, b := range all {
			buckets = append(buckets, b.Name)
		}
	}
	n := 0
	for _, b := range buckets {
		ups, err := e.Uploads(b)
		if err != nil {
			return n, err
		}
		for _, u := range ups {
			if !u.Initiated.Before(cutoff) {
				continue
			}
			if err := e.AbortUpload(ctx, u.Bucket, u.Key, u.ID); err != nil && ctx.Err() != nil {
				return n, ctx.Err()
			} else if err == nil {
				n++
			}
		}
	}
	return n, nil
}
