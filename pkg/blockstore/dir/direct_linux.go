package dir

import (
	"errors"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// directIO is what a volume's filesystem asks of direct I/O: the
// alignment of the memory and of the file offsets and lengths (zero: no
// direct I/O).
type directIO struct{ mem, offset int }

// probeDirectIO asks the filesystem of dir (statx STATX_DIOALIGN, Linux
// 6.1+) whether it takes direct I/O on a regular file, and how aligned.
func probeDirectIO(dir string) directIO {
	f, err := os.CreateTemp(dir, tmpPrefix+"probe-")
	if err != nil {
		return directIO{}
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var stx unix.Statx_t
	if err := unix.Statx(int(f.Fd()), "", unix.AT_EMPTY_PATH, unix.STATX_DIOALIGN, &stx); err != nil ||
		stx.Mask&unix.STATX_DIOALIGN == 0 || stx.Dio_mem_align == 0 || stx.Dio_offset_align == 0 {
		return directIO{}
	}
	return directIO{mem: int(stx.Dio_mem_align), offset: int(stx.Dio_offset_align)}
}

// errNoDirect means the block cannot be written with direct I/O here; the
// caller writes it through the page cache instead.
var errNoDirect = errors.New("direct I/O not possible")

// aligned reports whether data at file offset off can be written by
// direct I/O as dio asks.
func (dio directIO) aligned(data []byte, off int64) bool {
	return dio.mem != 0 && off%int64(dio.offset) == 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(data)))%uintptr(dio.mem) == 0
}

// openDirect opens path for direct writes (errNoDirect if refused).
func openDirect(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_DIRECT, 0o640)
	if errors.Is(err, syscall.EINVAL) {
		return nil, errNoDirect
	}
	return f, err
}

// writeDirect creates path with data written by direct I/O, bypassing the
// page cache, then cuts the file to its length. On this VM's disk that is
// both faster and far steadier than buffered writes followed by fsync
// (docs/benchmarks.md). Data must start at an address aligned as the
// filesystem asks; otherwise, or if the filesystem refuses, it returns
// errNoDirect having created nothing.
//
// scratch, when at least two alignment blocks long, is used for the tail
// (so that writes do not allocate).
func writeDirect(path string, data []byte, dio directIO, scratch []byte) (*os.File, error) {
	if len(data) < dio.offset || !dio.aligned(data, 0) {
		return nil, errNoDirect
	}
	f, err := openDirect(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, err
	}
	// Reserve the whole file first, so that its bulk and its tail land in
	// one extent (written separately, the tail went elsewhere on disk and
	// every read of the block paid a seek). Best effort: not every
	// filesystem allocates ahead.
	_ = unix.Fallocate(int(f.Fd()), 0, 0, int64(len(data)))
	err = writeAtDirect(f, data, 0, dio, scratch)
	if err == nil && len(data)%dio.offset != 0 {
		err = f.Truncate(int64(len(data)))
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		if errors.Is(err, syscall.EINVAL) {
			return nil, errNoDirect
		}
		return nil, err
	}
	return f, nil
}

// writeAtDirect writes data at off of f (opened with O_DIRECT; data and
// off aligned): the aligned bulk straight from data (no copy), the
// unaligned tail through an aligned block of scratch, zero-padded to the
// alignment.
func writeAtDirect(f *os.File, data []byte, off int64, dio directIO, scratch []byte) error {
	bulk := len(data) / dio.offset * dio.offset
	if bulk > 0 {
		if _, err := f.WriteAt(data[:bulk], off); err != nil {
			return err
		}
	}
	tail := data[bulk:]
	if len(tail) == 0 {
		return nil
	}
	block := max(dio.offset, dio.mem)
	raw := scratch
	if len(raw) < 2*block {
		raw = make([]byte, 2*block)
	}
	start := block - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%uintptr(block))
	buf := raw[start%block : start%block+block]
	clear(buf[copy(buf, tail):])
	_, err := f.WriteAt(buf[:dio.offset], off+int64(bulk))
	return err
}
