package dir

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nbctl/nb/pkg/blockstore"
)

// alignedBuf returns n bytes starting at an address aligned to align.
func alignedBuf(n, align int) []byte {
	raw := make([]byte, n+align)
	off := (align - int(uintptr(unsafe.Pointer(unsafe.SliceData(raw)))%uintptr(align))) % align
	return raw[off : off+n]
}

// Blocks of every awkward size round-trip through the direct path (when
// the filesystem has one) and the buffered one (unaligned memory), with
// exact lengths on disk.
func TestDirectAndBufferedWritesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, err := Open("pv1", t.TempDir(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	dio := s.dio[0]
	t.Logf("direct I/O on %s: %+v", s.Volumes()[0], dio)
	for _, n := range []int{0, 1, 16, 511, 4095, 4096, 4097, 1<<20 + 16, 4<<20 + 16} {
		for _, unaligned := range []bool{false, true} {
			buf := alignedBuf(n+1, 4096)
			if unaligned {
				buf = buf[1:]
			} else {
				buf = buf[:n]
			}
			for i := range buf {
				buf[i] = byte(i*31 + n)
			}
			key := filepath.ToSlash(filepath.Join("b", "x"))
			if err := s.Put(ctx, key, buf); err != nil {
				t.Fatalf("put %d bytes (unaligned %v): %v", n, unaligned, err)
			}
			got, err := s.Get(ctx, key)
			if err != nil || !bytes.Equal(got, buf) {
				t.Fatalf("%d bytes (unaligned %v): read back %d bytes, %v", n, unaligned, len(got), err)
			}
			if size, err := s.Stat(ctx, key); err != nil || size != int64(n) {
				t.Fatalf("%d bytes: stat says %d, %v", n, size, err)
			}
		}
	}
}

func TestWriteDirectTakesAlignedBlocksOnly(t *testing.T) {
	dir := t.TempDir()
	dio := probeDirectIO(dir)
	if dio.mem == 0 {
		t.Skipf("%s does not take direct I/O", dir)
	}
	block := alignedBuf(1<<20+16, 4096)
	f, err := writeDirect(filepath.Join(dir, "a"), block, dio, nil)
	if err != nil {
		t.Fatalf("an aligned block was refused: %v", err)
	}
	f.Close()
	if got, _ := os.ReadFile(filepath.Join(dir, "a")); !bytes.Equal(got, block) {
		t.Fatal("the direct write did not land as written")
	}
	if _, err := writeDirect(filepath.Join(dir, "b"), block[1:], dio, make([]byte, 1<<16)); !errors.Is(err, errNoDirect) {
		t.Fatalf("unaligned memory: %v, want errNoDirect", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused direct write left a file")
	}
}

// residentPages counts path's pages in the page cache.
func residentPages(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// An uncached read comes from the device: it leaves the part out of the
// page cache, where a plain read brings it in (so the check can fail).
func TestUncachedReadsBypassThePageCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open("pv1", t.TempDir(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.dio[0].mem == 0 {
		t.Skip("no direct I/O on this filesystem")
	}
	w, err := s.CreateExtent(ctx, "u/x0")
	if err != nil {
		t.Fatal(err)
	}
	data := alignedBuf(4<<20+100, 4096)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := w.WriteAt(ctx, data, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	part := s.partPath(0, "u/x0")
	evict := func() {
		f, err := os.Open(part)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
			t.Fatal(err)
		}
	}
	evict()
	if n := residentPages(t, part); n > 1 {
		t.Skipf("the page cache kept %d pages of the part after FADV_DONTNEED", n)
	}
	x, err := s.OpenExtent(ctx, "u/x0")
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	got, err := x.(blockstore.UncachedReader).ReadAtUncached(ctx, 0, len(data), nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("uncached read: %v, equal %v", err, bytes.Equal(got, data))
	}
	if n := residentPages(t, part); n > 1 {
		t.Errorf("%d pages in the page cache after an uncached read", n)
	}
	if _, err := x.ReadAt(ctx, 0, len(data), nil); err != nil {
		t.Fatal(err)
	}
	if n := residentPages(t, part); n < 512 {
		t.Errorf("only %d pages in the page cache after a plain read: the check cannot tell", n)
	}
}
