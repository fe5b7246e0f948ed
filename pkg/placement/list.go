package placement

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Listing is one page of a bucket's keys, in byte order, as S3's
// ListObjects pages them.
type Listing struct {
	Objects []Entry
	// Prefixes are the common prefixes: keys that continue past the
	// delimiter after the prefix, rolled up into one entry each.
	Prefixes []string
	// Truncated: more keys follow; Next is where the next page starts
	// (after it).
	Truncated bool
	Next      string
}

// Entry is a listed object.
type Entry struct {
	Key      string
	Size     int64
	ETag     string
	Modified time.Time
	// ChecksumAlgorithm and ChecksumType are those of the checksum the
	// object was uploaded with ("" for none).
	ChecksumAlgorithm string
	ChecksumType      string
}

// listEntry is the part of a manifest a listing needs (decoding it skips
// the chunks' contents).
type listEntry struct {
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
	Attrs   *struct {
		ETag              string `json:"etag"`
		ChecksumAlgorithm string `json:"checksumAlgorithm"`
		ChecksumType      string `json:"checksumType"`
	} `json:"attrs"`
}

// ListPage returns up to max keys (and common prefixes) of bucket that
// start with prefix and sort after after, rolling keys up at the first
// delimiter past the prefix. It reads only the page from the metadata,
// so it costs the same in a bucket of any size.
func (m *Meta) ListPage(bucket, prefix, delimiter, after string, max int) (Listing, error) {
	var out Listing
	if max <= 0 {
		// max-keys=0 is an empty page that is not truncated, as S3 answers
		// it (the s3-tests suite's maxkeys_zero cases; versitygw and MinIO
		// agree).
		return out, nil
	}
	base := bucket + "\x00"
	err := m.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketObjects).Cursor()
		start := base + prefix
		if after >= prefix {
			start = base + after
		}
		for k, v := c.Seek([]byte(start)); k != nil; {
			key, ok := strings.CutPrefix(string(k), base)
			if !ok || !strings.HasPrefix(key, prefix) {
				break
			}
			if key <= after {
				k, v = c.Next()
				continue
			}
			if delimiter != "" {
				if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
					cp := key[:len(prefix)+i+len(delimiter)]
					// Every key under cp sorts after it: skip them all,
					// and cp itself if an earlier page ended on it.
					if cp > after {
						if len(out.Objects)+len(out.Prefixes) == max {
							out.Truncated = true
							return nil
						}
						out.Prefixes = append(out.Prefixes, cp)
						out.Next = cp
					}
					next, ok := successor(base + cp)
					if !ok {
						return nil
					}
					k, v = c.Seek([]byte(next))
					continue
				}
			}
			if len(out.Objects)+len(out.Prefixes) == max {
				out.Truncated = true
				return nil
			}
			var le listEntry
			if err := decodeJSON(v, &le); err != nil {
				return fmt.Errorf("%w: %s/%s: %v", ErrBadManifest, bucket, key, err)
			}
			e := Entry{Key: key, Size: le.Size, Modified: le.Created}
			if le.Attrs != nil {
				e.ETag, e.ChecksumAlgorithm, e.ChecksumType = le.Attrs.ETag, le.Attrs.ChecksumAlgorithm, le.Attrs.ChecksumType
			}
			out.Objects = append(out.Objects, e)
			out.Next = key
			k, v = c.Next()
		}
		return nil
	})
	if !out.Truncated {
		out.Next = ""
	}
	return out, err
}

// successor is the smallest string greater than every string that starts
// with s; false when there is none (s is all 0xff bytes).
func successor(s string) (string, bool) {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Empty reports whether a bucket holds no object and no upload in
// progress.
func (m *Meta) Empty(bucket string) (bool, error) {
	empty := true
	err := m.view(func(tx *bolt.Tx) error {
		prefix := []byte(bucket + "\x00")
		for _, b := range [][]byte{bucketObjects, bucketUploads} {
			if k, _ := tx.Bucket(b).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
				empty = false
			}
		}
		return nil
	})
	return empty, err
}
