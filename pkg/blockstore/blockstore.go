// Package blockstore is the narrow storage interface nb's data path places
// blocks on, in the manner of restic's backend: every call takes a context,
// errors are classified (not found, unavailable, corrupt, permanent), and
// every driver passes one shared conformance suite (package storetest).
//
// A block is an opaque byte slice of at most a chunk's size; integrity
// (checksums) is the caller's concern, so drivers stay simple. Drivers:
// mem (tests), dir (a pv-pool of directories), s3 (any S3 endpoint), and
// faulty (a decorator that injects failures).
package blockstore

import (
	"context"
	"errors"
	"fmt"
)

// Store holds blocks under keys. Keys are slash-separated paths of
// [a-zA-Z0-9._-] segments. Implementations must be safe for concurrent use.
type Store interface {
	// Name identifies the store in reports and errors.
	Name() string
	// Put stores data under key atomically: after a crash or an error a
	// reader sees the old block, the whole new block, or nothing.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the whole block.
	Get(ctx context.Context, key string) ([]byte, error)
	// Stat returns the block's size.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes a block; deleting a missing block is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every key with the prefix, in no set order.
	List(ctx context.Context, prefix string, fn func(key string) error) error
	// Capacity reports the space the store has.
	Capacity(ctx context.Context) (Capacity, error)
}

// Reader is implemented by stores that can read a block into a buffer the
// caller owns, so that a reader can recycle buffers instead of allocating
// one per block.
type Reader interface {
	// GetInto returns the block in buf[:n] when it fits, else in a new
	// slice.
	GetInto(ctx context.Context, key string, buf []byte) ([]byte, error)
}

// GetInto reads a block into buf when the store supports it.
func GetInto(ctx context.Context, s Store, key string, buf []byte) ([]byte, error) {
	if r, ok := s.(Reader); ok {
		return r.GetInto(ctx, key, buf)
	}
	return s.Get(ctx, key)
}

// Extents is implemented by stores that can hold many blocks of one
// object in one extent: a file written block by block at offsets the
// caller chooses, made visible as a whole by Commit. Reading a large
// object's blocks from one file instead of one file per block is what
// lets a local store read at the speed of its disk (docs/benchmarks.md).
//
// An extent lives under a key like a block, and the two never share one.
// Delete removes an extent as a whole and List reports it; Get and Stat
// see blocks only.
type Extents interface {
	// CreateExtent starts a new extent under key. Nothing is visible
	// under key until Commit; Abort or a crash leaves nothing behind.
	CreateExtent(ctx context.Context, key string) (ExtentWriter, error)
	// OpenExtent opens a committed extent for reading.
	OpenExtent(ctx context.Context, key string) (ExtentReader, error)
}

// ExtentWriter writes one extent. Its methods are safe for concurrent
// use; blocks written at different offsets must not overlap.
type ExtentWriter interface {
	// WriteAt writes a block at off. Offsets that are multiples of
	// ExtentAlign let a store write without copying; the store may then
	// pad the block with zeros up to the next multiple of ExtentAlign, so
	// the next block must start at or after it.
	WriteAt(ctx context.Context, p []byte, off int64) error
	// Commit makes every block written so far durable and the extent
	// visible under its key, atomically.
	Commit(ctx context.Context) error
	// Abort discards the extent; after Commit it does nothing.
	Abort()
}

// ExtentReader reads blocks of a committed extent; safe for concurrent
// use.
type ExtentReader interface {
	// ReadAt returns the n bytes at off, in buf[:n] when it fits, else in
	// a new slice. Bytes never written read as zeros or fail.
	ReadAt(ctx context.Context, off int64, n int, buf []byte) ([]byte, error)
	Close() error
}

// UncachedReader is implemented by extent readers that can also read
// around the operating system's page cache, from the device itself: what
// nb verify's read-backs want (what the store holds, not what memory
// still has, and no copy out of the cache, which on a VM costs as much
// CPU as a SHA-256 of the bytes). Same contract as ReadAt, except that
// it may write to buf up to its capacity (a direct read takes whole
// alignment blocks).
type UncachedReader interface {
	ReadAtUncached(ctx context.Context, off int64, n int, buf []byte) ([]byte, error)
}

// Appender is implemented by stores that hold extents which grow by
// appends and are readable (OpenExtent) while they grow: the packs that
// many small objects share, one file for thousands of objects instead of
// a file each. Appends to one key are written in order, one after
// another, so an extent is always a prefix of whole appends that are
// durable followed, after a crash, by at most what was being written.
// An appended extent stays below 1 GiB; CreateExtent never writes one.
type Appender interface {
	// Append writes p at the end of the extent under key (creating it)
	// and returns the offset p starts at, once p is durable. Concurrent
	// appends are made durable together, by one sync.
	Append(ctx context.Context, key string, p []byte) (int64, error)
	// AppendLater is Append without waiting for p to be durable:
	// SyncAppends with the end of p (offset + length) does that. Appends
	// are written in order, so a sync covers every append before it.
	AppendLater(ctx context.Context, key string, p []byte) (int64, error)
	// SyncAppends returns once everything appended to key up to end is
	// durable; concurrent calls share a sync.
	SyncAppends(ctx context.Context, key string, end int64) error
	// Overwrite writes each patch over bytes already appended, durably,
	// with one sync for all (nb marks dead objects' records so).
	Overwrite(ctx context.Context, key string, patches []Patch) error
	// CloseAppend releases what appends to key keep open; a later
	// Append opens it again.
	CloseAppend(key string) error
}

// Patch is bytes to write at an offset (Appender.Overwrite).
type Patch struct {
	Off  int64
	Data []byte
}

// AppenderOf returns s as an Appender when it can append to extents.
func AppenderOf(s Store) (Appender, bool) {
	if _, ok := ExtentsOf(s); !ok {
		return nil, false
	}
	if d, ok := s.(interface{ SupportsAppend() bool }); ok && !d.SupportsAppend() {
		return nil, false
	}
	a, ok := s.(Appender)
	return a, ok
}

// ExtentsOf returns s as Extents when it can hold them. A decorator
// (package faulty) says whether the store it wraps can, with a method
// SupportsExtents.
func ExtentsOf(s Store) (Extents, bool) {
	if d, ok := s.(interface{ SupportsExtents() bool }); ok && !d.SupportsExtents() {
		return nil, false
	}
	x, ok := s.(Extents)
	return x, ok
}

// CheckExtentWrite is what every ExtentWriter.WriteAt checks first: a live
// context and an offset that is not negative.
func CheckExtentWrite(ctx context.Context, store, key string, off int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if off < 0 {
		return Errorf(ErrPermanent, store, "write extent", key, fmt.Errorf("offset %d", off))
	}
	return nil
}

// ExtentAlign is the offset alignment callers give extent blocks: the
// largest direct I/O alignment common filesystems ask for.
const ExtentAlign = 4096

// Capacity is a store's space in bytes. Total 0 means unknown (unbounded).
type Capacity struct {
	Total int64
	Used  int64
}

// Free is what is left, or -1 when the total is unknown.
func (c Capacity) Free() int64 {
	if c.Total <= 0 {
		return -1
	}
	if f := c.Total - c.Used; f > 0 {
		return f
	}
	return 0
}

// Error classes.
var (
	// ErrNotFound: no block under the key.
	ErrNotFound = errors.New("block not found")
	// ErrUnavailable: the store cannot be reached now; retrying later or
	// reading another copy may work.
	ErrUnavailable = errors.New("store unavailable")
	// ErrCorrupt: the block exists but its content is wrong.
	ErrCorrupt = errors.New("block corrupt")
	// ErrNoSpace: the store is full.
	ErrNoSpace = errors.New("store full")
	// ErrPermanent: the request can never succeed (bad key, denied).
	ErrPermanent = errors.New("permanent store error")
)

// Error wraps a driver error with its class, the store and the key.
type Error struct {
	Class error
	Store string
	Op    string
	Key   string
	Err   error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s %q: %v", e.Store, e.Op, e.Key, e.Class)
	if e.Err != nil && e.Err != e.Class {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is match both the class and the cause.
func (e *Error) Unwrap() []error { return []error{e.Class, e.Err} }

// Errorf classifies err for store, op and key.
func Errorf(class error, store, op, key string, err error) error {
	return &Error{Class: class, Store: store, Op: op, Key: key, Err: err}
}

// IsNotFound reports whether err means the block does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsUnavailable reports whether err means the store cannot be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// ValidKey checks a key's syntax.
func ValidKey(key string) error {
	if key == "" || len(key) > 512 || key[0] == '/' || key[len(key)-1] == '/' {
		return fmt.Errorf("invalid block key %q", key)
	}
	seg := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '/':
			if seg == 0 {
				return fmt.Errorf("invalid block key %q: empty segment", key)
			}
			seg = 0
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.':
			if seg == 0 && (i+1 == len(key) || key[i+1] == '.' || key[i+1] == '/') {
				return fmt.Errorf("invalid block key %q: . and .. segments are not allowed", key)
			}
		default:
			return fmt.Errorf("invalid block key %q: character %q", key, c)
		}
		seg++
	}
	return nil
}
