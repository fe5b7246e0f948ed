package dir

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/storetest"
)

// The buffered path: tmpfs takes no direct I/O.
func TestConformanceOnTmpfs(t *testing.T) {
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		t.Skip("no /dev/shm")
	}
	storetest.Run(t, func(t *testing.T) blockstore.Store {
		root, err := os.MkdirTemp("/dev/shm", "nb-dir-test-")
		if err != nil {
			t.Skip(err)
		}
		t.Cleanup(func() { os.RemoveAll(root) })
		s, err := Open("pv1", root, 2, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func writeExtent(t *testing.T, s *Store, key string, blocks map[int64][]byte) {
	t.Helper()
	ctx := context.Background()
	w, err := s.CreateExtent(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for off, b := range blocks {
		if err := w.WriteAt(ctx, b, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// An extent's runs of 1 GiB go to successive volumes, each a part file
// holding its runs at their own offsets (sparse elsewhere).
func TestExtentRunsSpreadOverVolumes(t *testing.T) {
	s, err := Open("pv1", t.TempDir(), 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[int64][]byte{}
	for run := int64(0); run < 4; run++ {
		blocks[run*extentRun] = bytes.Repeat([]byte{byte(run + 1)}, 4096)
	}
	writeExtent(t, s, "blocks/ab/x0", blocks)
	first := s.volumeOf("blocks/ab/x0")
	for run := int64(0); run < 4; run++ {
		v := (first + int(run)) % 3
		if got := s.extentVolume("blocks/ab/x0", run*extentRun); got != v {
			t.Fatalf("run %d on volume %d, want %d", run, got, v)
		}
		f, err := os.Open(s.partPath(v, "blocks/ab/x0"))
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		b := make([]byte, 4096)
		_, err = f.ReadAt(b, run*extentRun)
		f.Close()
		if err != nil || !bytes.Equal(b, blocks[run*extentRun]) {
			t.Fatalf("run %d not at its offset in volume %d's part: %v", run, v, err)
		}
	}
	c, _ := s.Capacity(context.Background())
	if c.Used > 1<<20 {
		t.Errorf("four 4 KiB blocks take %d bytes: the parts are not sparse", c.Used)
	}
}

// A volume that is gone makes extent calls fail as unavailable (retry
// later), never as a missing extent; its temporary parts left by a crash
// are removed when the store opens.
func TestExtentVolumeGoneAndCrashLeftovers(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv1", root, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeExtent(t, s, "blocks/cd/x0", map[int64][]byte{0: []byte("a"), extentRun: []byte("b")})
	// A writer that never commits, as after a crash.
	w, err := s.CreateExtent(ctx, "blocks/cd/x1")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAt(ctx, []byte("half"), 0); err != nil {
		t.Fatal(err)
	}
	// As if its process had died: its temporary parts carry a dead pid.
	markDead(t, root)
	vol := s.Volumes()[1]
	if err := os.Rename(vol, vol+".away"); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenExtent(ctx, "blocks/cd/x0")
	if err == nil {
		_, err = r.ReadAt(ctx, int64(1-s.volumeOf("blocks/cd/x0"))*extentRun, 1, nil)
		r.Close()
	}
	if !blockstore.IsUnavailable(err) {
		t.Errorf("read from a gone volume: %v, want unavailable", err)
	}
	if err := s.Delete(ctx, "blocks/cd/x0"); !blockstore.IsUnavailable(err) {
		t.Errorf("delete with a volume gone: %v, want unavailable", err)
	}
	if err := os.Rename(vol+".away", vol); err != nil {
		t.Fatal(err)
	}
	s2, err := Open("pv1", root, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tmpPrefix) {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Errorf("temporary parts left after reopening: %v", left)
	}
	r, err = s2.OpenExtent(ctx, "blocks/cd/x0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.ReadAt(ctx, extentRun, 1, nil); err != nil || string(got) != "b" {
		t.Errorf("after reopening: %q, %v", got, err)
	}
}

// markDead renames the temporary files under root as a dead process's.
func markDead(t *testing.T, root string) {
	t.Helper()
	pid := strconv.Itoa(deadPID(t))
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tmpPrefix) {
			_, rest, _ := strings.Cut(strings.TrimPrefix(d.Name(), tmpPrefix), "-")
			if err := os.Rename(p, filepath.Join(filepath.Dir(p), tmpPrefix+pid+"-"+rest)); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
}

// An appended extent is written into zeros written ahead, so that a sync
// writes data only; the file ends where its records do once closed, and
// what the store counts follows what the file takes.
func TestAppendWritesAheadThenTrims(t *testing.T) {
	s, err := Open("pv1", t.TempDir(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, "packs/p", bytes.Repeat([]byte("r"), 5000)); err != nil {
		t.Fatal(err)
	}
	path := s.partPath(0, "packs/p")
	if info, err := os.Stat(path); err != nil || info.Size() != zeroAhead {
		t.Fatalf("while open: %v, size %d, want %d", err, info.Size(), zeroAhead)
	}
	if c, _ := s.Capacity(ctx); c.Used != zeroAhead {
		t.Errorf("while open the store counts %d, want %d", c.Used, zeroAhead)
	}
	if err := s.CloseAppend("packs/p"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() != 5000 {
		t.Fatalf("after close: %v, size %d, want 5000", err, info.Size())
	}
	if c, _ := s.Capacity(ctx); c.Used != 5000 {
		t.Errorf("after close the store counts %d, want 5000", c.Used)
	}
	reopened, err := Open("pv1", filepath.Dir(s.volumes[0]), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := reopened.Capacity(ctx); c.Used != allocated(info) {
		t.Errorf("reopened, the store counts %d, want %d", c.Used, allocated(info))
	}
}

// Readers share open parts; a deleted part is never read through a
// handle kept open, and the store keeps at most readCache of them.
func TestReadHandlesAreSharedAndDropped(t *testing.T) {
	s, err := Open("pv1", t.TempDir(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < readCache+10; i++ {
		writeExtent(t, s, fmt.Sprintf("ext/%d/x0", i), map[int64][]byte{0: []byte("block")})
		r, err := s.OpenExtent(ctx, fmt.Sprintf("ext/%d/x0", i))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadAt(ctx, 0, 5, nil); err != nil || string(got) != "block" {
			t.Fatalf("read %d: %q %v", i, got, err)
		}
		r.Close()
	}
	if n := len(s.readFiles); n > readCache {
		t.Errorf("%d handles kept, at most %d", n, readCache)
	}
	held, err := s.OpenExtent(ctx, "ext/0/x0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.ReadAt(ctx, 0, 5, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ext/0/x0"); err != nil {
		t.Fatal(err)
	}
	held.Close()
	if _, err := s.OpenExtent(ctx, "ext/0/x0"); !blockstore.IsNotFound(err) {
		t.Errorf("open a deleted extent: %v", err)
	}
	writeExtent(t, s, "ext/0/x0", map[int64][]byte{0: []byte("again")})
	r, err := s.OpenExtent(ctx, "ext/0/x0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.ReadAt(ctx, 0, 5, nil); err != nil || string(got) != "again" {
		t.Errorf("read the extent written again under the key: %q %v", got, err)
	}
}

// A store whose folder is gone (a PV lost, or moved away by nb verify)
// fails its reads even for a part it holds open from before: the open
// handle still reads, so OpenExtent must look at the folder each time.
func TestOpenHandleDoesNotHideAGoneFolder(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "pv1")
	s, err := Open("pv1", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeExtent(t, s, "packs/1-ab", map[int64][]byte{0: []byte("block")})
	r, err := s.OpenExtent(ctx, "packs/1-ab")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.ReadAt(ctx, 0, 5, nil); err != nil || string(got) != "block" {
		t.Fatalf("read: %q %v", got, err)
	}
	r.Close() // the handle stays in the read cache
	if err := os.Rename(root, root+".away"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.OpenExtent(ctx, "packs/1-ab"); err == nil {
		r.Close()
		t.Fatal("an extent of a store whose folder is gone opened")
	}
}
