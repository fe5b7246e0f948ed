// Package boltfile opens nb's bbolt files (the local control plane's
// state.db, the data path's buckets.db) so that a damaged file is an
// error naming it, never a crash: bbolt checks its meta pages on open but
// panics on a damaged page met later (a branch page of the wrong type, an
// overflow count past the end of the file). Every transaction here runs
// under a recover that turns such a panic into a *DamagedError; bbolt's
// own deferred rollback has already released the transaction by then.
package boltfile

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DamagedError says a file is not a readable bbolt file.
type DamagedError struct {
	Path string
	// Cause is bbolt's diagnosis (never file content).
	Cause string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s is damaged (%s)", e.Path, e.Cause)
}

// IsDamaged reports whether err is, or wraps, a *DamagedError.
func IsDamaged(err error) bool {
	var d *DamagedError
	return errors.As(err, &d)
}

// damagedOnOpen holds the files whose open panicked in this process.
// Such a panic leaves bbolt's file descriptor and memory map behind, and
// with them the file's lock (a mapping keeps the open file alive, so
// closing the descriptor is not enough): any later open of the file by
// this process would wait out its timeout. The leak is the process's, so
// this record is too: the one package-level variable here.
var damagedOnOpen sync.Map // path → *DamagedError

// Open opens path as bbolt does, with damage reported as *DamagedError.
func Open(path string, mode os.FileMode, opts *bolt.Options) (db *bolt.DB, err error) {
	if d, ok := damagedOnOpen.Load(path); ok {
		return nil, d.(*DamagedError)
	}
	defer func() {
		if r := recover(); r != nil {
			d := &DamagedError{Path: path, Cause: cause(r)}
			damagedOnOpen.Store(path, d)
			db, err = nil, d
		}
	}()
	db, err = bolt.Open(path, mode, opts)
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return nil, &DamagedError{Path: path, Cause: err.Error()}
	}
	return db, err
}

// View runs a read transaction, with damage reported as *DamagedError.
func View(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer recovered(db, &err)
	return db.View(fn)
}

// Update runs a write transaction, with damage reported as *DamagedError.
func Update(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer recovered(db, &err)
	return db.Update(fn)
}

func recovered(db *bolt.DB, err *error) {
	if r := recover(); r != nil {
		*err = &DamagedError{Path: db.Path(), Cause: cause(r)}
	}
}

// cause is a panic's message, bounded.
func cause(r any) string {
	s := fmt.Sprint(r)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// MoveAside renames a damaged file to path.damaged-<time> so that a new
// one can be made in its place, and returns the new name. The process
// may open path again afterwards (what it leaked belongs to the old file).
func MoveAside(path string, now time.Time) (string, error) {
	to := path + ".damaged-" + now.UTC().Format("20060102T150405Z")
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("move the damaged %s aside: %w", path, err)
	}
	damagedOnOpen.Delete(path)
	return to, nil
}
