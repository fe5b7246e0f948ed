package dir

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) blockstore.Store {
		s, err := Open("pv1", t.TempDir(), 3, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestBlocksSpreadAcrossVolumes(t *testing.T) {
	ctx := context.Background()
	s, err := Open("pv1", t.TempDir(), 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		if err := s.Put(ctx, "b/"+string(rune('a'+i%26))+string(rune('a'+i/26)), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range s.Volumes() {
		entries, _ := os.ReadDir(filepath.Join(v, "b"))
		if len(entries) == 0 {
			t.Errorf("volume %s holds no block", v)
		}
	}
}

func TestVolumeSizeLimitsPuts(t *testing.T) {
	ctx := context.Background()
	s, err := Open("small", t.TempDir(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a", make([]byte, 80)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "b", make([]byte, 30)); !errors.Is(err, blockstore.ErrNoSpace) {
		t.Fatalf("want ErrNoSpace, got %v", err)
	}
	if c, _ := s.Capacity(ctx); c.Total != 100 || c.Used != 80 || c.Free() != 20 {
		t.Errorf("capacity %+v", c)
	}
}

func TestReopenCountsUseAndRemovesTempFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k/a", make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	// A dead process's temporary file goes; so does one of an older nb
	// (no pid in its name) once stale. A live process's stays: it may be
	// writing it right now.
	dead := filepath.Join(s.Volumes()[0], "k", tmpPrefix+strconv.Itoa(deadPID(t))+"-0123")
	old := filepath.Join(s.Volumes()[0], "k", tmpPrefix+"0123456789abcdef")
	recent := filepath.Join(s.Volumes()[0], "k", tmpPrefix+"fedcba9876543210")
	live := filepath.Join(s.Volumes()[0], "k", tmpPrefix+strconv.Itoa(os.Getpid())+"-4567")
	for _, p := range []string{dead, old, recent, live} {
		if err := os.WriteFile(p, []byte("torn"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(old, time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s2, err := Open("pv", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := s2.Capacity(ctx); c.Used != 500 {
		t.Errorf("used %d after reopen", c.Used)
	}
	for _, p := range []string{dead, old} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("abandoned temporary file %s survived reopening", filepath.Base(p))
		}
	}
	for _, p := range []string{recent, live} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("temporary file %s that a live writer may own was removed: %v", filepath.Base(p), err)
		}
	}
	var keys []string
	_ = s2.List(ctx, "", func(k string) error { keys = append(keys, k); return nil })
	if len(keys) != 1 {
		t.Errorf("keys %v", keys)
	}
}

// TestMissingVolumeIsUnavailable: a volume that is gone (unmounted, moved
// away) is a failed store, not a missing block.
func TestMissingVolumeIsUnavailable(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.Volumes()[0], filepath.Join(root, "away")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a"); !blockstore.IsUnavailable(err) {
		t.Errorf("get: %v", err)
	}
	if err := s.Put(ctx, "b", []byte("x")); !blockstore.IsUnavailable(err) {
		t.Errorf("put: %v", err)
	}
}

func TestDeleteRemovesEmptiedFolders(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv1", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"blocks/ab/abc/0", "blocks/ab/abc/1", "blocks/ab/abd/0"} {
		if err := s.Put(ctx, k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	vol := s.Volumes()[0]
	exists := func(rel string) bool { _, err := os.Stat(filepath.Join(vol, rel)); return err == nil }
	if err := s.Delete(ctx, "blocks/ab/abc/0"); err != nil {
		t.Fatal(err)
	}
	if !exists("blocks/ab/abc") {
		t.Fatal("a folder still holding a block was removed")
	}
	if err := s.Delete(ctx, "blocks/ab/abc/1"); err != nil {
		t.Fatal(err)
	}
	if exists("blocks/ab/abc") || !exists("blocks/ab/abd/0") {
		t.Fatal("the emptied object folder stays, or its sibling went")
	}
	if err := s.Delete(ctx, "blocks/ab/abd/0"); err != nil {
		t.Fatal(err)
	}
	if exists("blocks/ab") || !exists("blocks") {
		t.Fatal("want the emptied fan-out folder gone and the top folder kept")
	}
}

// Deletes emptying a folder race with puts into it: no put may fail.
func TestPutsAndDeletesInOneFolderRace(t *testing.T) {
	ctx := context.Background()
	s, err := Open("pv1", t.TempDir(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.NoSync = true
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			var err error
			for i := 0; i < 300 && err == nil; i++ {
				key := "blocks/ff/" + string(rune('a'+w)) + "/" + string(rune('a'+i%26))
				if err = s.Put(ctx, key, []byte("x")); err == nil {
					err = s.Delete(ctx, key)
				}
			}
			errs <- err
		}(w)
	}
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// Opening a store (as another nb process does) while an extent is being
// written leaves the writer's temporary parts alone: the commit succeeds.
func TestOpenWhileAnotherWriterWrites(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv1", root, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateExtent(ctx, "blocks/ab/x0")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAt(ctx, []byte("first"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "blocks/ab/0", []byte("block")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open("pv1", root, 2, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAt(ctx, []byte("second"), extentRun); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("commit after another open of the store: %v", err)
	}
	r, err := s.OpenExtent(ctx, "blocks/ab/x0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for off, want := range map[int64]string{0: "first", extentRun: "second"} {
		if got, err := r.ReadAt(ctx, off, len(want), nil); err != nil || string(got) != want {
			t.Errorf("at %d: %q, %v", off, got, err)
		}
	}
}

// A put into a folder whose volume is gone fails as unavailable and does
// not re-create the volume.
func TestPutDoesNotRecreateAGoneVolume(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open("pv1", root, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	vol := s.Volumes()[0]
	if err := os.Rename(vol, vol+".away"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "blocks/ab/c/0", []byte("x")); !blockstore.IsUnavailable(err) {
		t.Errorf("put with the volume gone: %v, want unavailable", err)
	}
	if _, err := os.Stat(vol); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the gone volume was re-created: %v", err)
	}
}
