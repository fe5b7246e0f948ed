package dir

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
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
