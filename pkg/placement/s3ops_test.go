package placement

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every range of objects of several chunks reads back the bytes at that
// range, whatever the policy.
func TestReadRange(t *testing.T) {
	const chunk = 1000
	ctx := context.Background()
	for _, pol := range []Policy{mirror("s0", "s1"), spread("s0", "s1", "s2"), erasure(2, 1, "s0", "s1", "s2")} {
		r := newRig(t, 3, 0, chunk)
		want := data(3*chunk+457, 7)
		man := r.put(t, "k", pol, want)
		rnd := rand.New(rand.NewPCG(1, 2))
		ranges := [][2]int64{{0, 0}, {0, 1}, {0, int64(len(want))}, {chunk - 1, 2}, {chunk, chunk}, {int64(len(want)) - 1, 1}, {int64(len(want)), 0}}
		for i := 0; i < 200; i++ {
			off := rnd.Int64N(int64(len(want)) + 1)
			ranges = append(ranges, [2]int64{off, rnd.Int64N(int64(len(want)) - off + 1)})
		}
		for _, rg := range ranges {
			var out bytes.Buffer
			if _, err := r.eng.ReadRange(ctx, man, rg[0], rg[1], &out); err != nil {
				t.Fatalf("%v range %v: %v", pol, rg, err)
			}
			if !bytes.Equal(out.Bytes(), want[rg[0]:rg[0]+rg[1]]) {
				t.Fatalf("%v range %v: wrong bytes", pol, rg)
			}
		}
		if _, err := r.eng.ReadRange(ctx, man, 10, int64(len(want)), io.Discard); err == nil {
			t.Errorf("a range past the end was read")
		}
	}
}

// PutWith feeds every hash the object's bytes, stores the attributes, and
// a Finish or a Precondition that fails leaves the previous version and
// nothing of the new one on the stores.
func TestPutWithHashesAttrsAndFailures(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 1000)
	want := data(4321, 3)
	md := md5.New()
	man, err := r.eng.PutWith(ctx, "bkt", "k", mirror("s0", "s1"), bytes.NewReader(want), PutOptions{
		Hashes: []hash.Hash{md}, NoSHA256: true,
		Attrs:  &Attrs{ContentType: "text/plain", Meta: map[string]string{"a": "b"}},
		Finish: func(m *Manifest) error { m.Attrs.ETag = hex.EncodeToString(md.Sum(nil)); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(want)
	if got, _ := r.eng.Stat("bkt", "k"); got.Attrs.ETag != hex.EncodeToString(sum[:]) || got.SHA256 != "" || got.Attrs.Meta["a"] != "b" || got.Attrs.ContentType != "text/plain" {
		t.Fatalf("stored %+v %+v", got, got.Attrs)
	}
	blocksBefore := r.count()
	bad := errors.New("checksum mismatch")
	for name, opt := range map[string]PutOptions{
		"finish":       {Finish: func(*Manifest) error { return bad }},
		"precondition": {Precondition: func(cur *Manifest) error { return bad }},
	} {
		if _, err := r.eng.PutWith(ctx, "bkt", "k", mirror("s0", "s1"), bytes.NewReader(data(5000, 9)), opt); !errors.Is(err, bad) {
			t.Fatalf("%s: %v", name, err)
		}
		if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: the previous version did not survive: %v", name, err)
		}
		if n := r.count(); n != blocksBefore {
			t.Fatalf("%s: %d blocks on the stores, %d before", name, n, blocksBefore)
		}
	}
	// The precondition sees the current version.
	var seen string
	if _, err := r.eng.PutWith(ctx, "bkt", "k", mirror("s0", "s1"), bytes.NewReader(want), PutOptions{
		Precondition: func(cur *Manifest) error { seen = cur.ObjectID; return nil }}); err != nil || seen != man.ObjectID {
		t.Fatalf("precondition saw %q, want %q (%v)", seen, man.ObjectID, err)
	}
}

// count is how many keys the rig's stores hold.
func (r *rig) count() int {
	n := 0
	for _, m := range r.mems {
		_ = m.List(context.Background(), "", func(string) error { n++; return nil })
	}
	return n
}

// ListPage pages through keys with any prefix, delimiter and page size
// exactly as a model of S3's listing does.
func TestListPageMatchesModel(t *testing.T) {
	r := newRig(t, 1, 0, 1000)
	keys := []string{"a", "a/", "a/b", "a/b/c", "a/c", "a//d", "ab", "b/x", "b/y/z", "c", "c/", "d e+f%g", "é/ü", "z" + strings.Repeat("y", 1000)}
	for i := 0; i < 60; i++ {
		keys = append(keys, fmt.Sprintf("p/%02d/q%d", i%7, i))
	}
	for _, k := range keys {
		r.put(t, k, spread("s0"), []byte(k))
	}
	sort.Strings(keys)
	for _, prefix := range []string{"", "a", "a/", "p/", "p/0", "x", "é"} {
		for _, delim := range []string{"", "/", "b", "//"} {
			want := model(keys, prefix, delim)
			for _, max := range []int{1, 2, 3, 7, 1000} {
				var got []string
				after := ""
				for page := 0; ; page++ {
					l, err := r.eng.Meta.ListPage("bkt", prefix, delim, after, max)
					if err != nil {
						t.Fatal(err)
					}
					if len(l.Objects)+len(l.Prefixes) > max || page > len(keys)+1 {
						t.Fatalf("prefix %q delim %q max %d: page of %d", prefix, delim, max, len(l.Objects)+len(l.Prefixes))
					}
					for _, o := range l.Objects {
						got = append(got, "o:"+o.Key)
						if o.Size != int64(len(o.Key)) {
							t.Fatalf("%q size %d", o.Key, o.Size)
						}
					}
					for _, p := range l.Prefixes {
						got = append(got, "p:"+p)
					}
					if !l.Truncated {
						break
					}
					after = l.Next
				}
				sort.Slice(got, func(i, j int) bool { return got[i][2:] < got[j][2:] })
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Fatalf("prefix %q delim %q max %d:\n got %v\nwant %v", prefix, delim, max, got, want)
				}
			}
		}
	}
	if l, _ := r.eng.Meta.ListPage("bkt", "", "", "", 0); l.Truncated || len(l.Objects) != 0 || len(l.Prefixes) != 0 {
		t.Errorf("max 0: %+v", l)
	}
	if l, _ := r.eng.Meta.ListPage("other", "", "", "", 10); len(l.Objects) != 0 || l.Truncated {
		t.Errorf("another bucket: %+v", l)
	}
}

func model(keys []string, prefix, delim string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp := k[:len(prefix)+i+len(delim)]
			if !seen[cp] {
				seen[cp] = true
				out = append(out, "p:"+cp)
			}
			continue
		}
		out = append(out, "o:"+k)
	}
	return out
}

// A multipart upload composes the object from its parts' blocks (parts
// uploaded out of order, one uploaded twice); the parts not listed, the
// replaced part and, on delete, everything else leave the stores.
func TestMultipartComposesParts(t *testing.T) {
	ctx := context.Background()
	eng, root := dirEngine(t, "d0", "d1")
	eng.VerifyObjectHash = true
	pol := mirror("d0", "d1")
	up, err := eng.CreateUpload("bkt", "big", pol, &Attrs{ContentType: "video/mp4"})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[int][]byte{1: data(MinPartSize+12345, 1), 2: data(MinPartSize, 2), 3: data(777, 3), 4: data(MinPartSize, 4)}
	etag := func(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }
	putPart := func(n int, b []byte) {
		t.Helper()
		if _, err := eng.PutPart(ctx, "bkt", "big", up.ID, n, bytes.NewReader(b), PutOptions{Attrs: &Attrs{ETag: etag(b)}}); err != nil {
			t.Fatal(err)
		}
	}
	putPart(3, parts[3])
	putPart(2, data(100, 99)) // replaced below
	putPart(1, parts[1])
	putPart(2, parts[2])
	putPart(4, parts[4]) // uploaded, not completed with
	listed, err := eng.Parts("bkt", "big", up.ID)
	if err != nil || len(listed) != 4 || listed[1].Number != 2 || listed[1].Size != MinPartSize || listed[1].ETag != etag(parts[2]) {
		t.Fatalf("parts %+v %v", listed, err)
	}
	if _, err := eng.CompleteUpload(ctx, "bkt", "big", up.ID, []CompletedPart{{2, etag(parts[2])}, {1, etag(parts[1])}}, nil); !errors.Is(err, ErrPartOrder) {
		t.Fatalf("out of order: %v", err)
	}
	if _, err := eng.CompleteUpload(ctx, "bkt", "big", up.ID, []CompletedPart{{1, etag(parts[2])}}, nil); !errors.Is(err, ErrInvalidPart) {
		t.Fatalf("wrong etag: %v", err)
	}
	if _, err := eng.CompleteUpload(ctx, "bkt", "big", up.ID, []CompletedPart{{3, etag(parts[3])}, {4, etag(parts[4])}}, nil); !errors.Is(err, ErrPartTooSmall) {
		t.Fatalf("small part first: %v", err)
	}
	man, err := eng.CompleteUpload(ctx, "bkt", "big", up.ID, []CompletedPart{{1, `"` + etag(parts[1]) + `"`}, {2, etag(parts[2])}, {3, etag(parts[3])}},
		func(m *Manifest) error { m.Attrs = &Attrs{ETag: "x-3", ContentType: m.Attrs.ContentType}; return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(append([]byte(nil), parts[1]...), parts[2]...), parts[3]...)
	var got bytes.Buffer
	if _, _, err := eng.Get(ctx, "bkt", "big", &got); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read back: %v (equal %v)", err, bytes.Equal(got.Bytes(), want))
	}
	if man.Attrs.ContentType != "video/mp4" || len(man.Parts) != 3 || man.Size != int64(len(want)) {
		t.Fatalf("manifest %+v", man)
	}
	var ranged bytes.Buffer
	off := int64(MinPartSize + 12000)
	if _, err := eng.ReadRange(ctx, man, off, MinPartSize, &ranged); err != nil || !bytes.Equal(ranged.Bytes(), want[off:off+MinPartSize]) {
		t.Fatalf("range across parts: %v", err)
	}
	if _, err := eng.Upload("bkt", "big", up.ID); !errors.Is(err, ErrNoUpload) {
		t.Errorf("upload after completion: %v", err)
	}
	// Parts 4 and the first part 2 are gone; part 1-3's extents hold the
	// object: two copies of 3 parts, plus the manifest copies.
	if n := files(t, root); n != 2*3+2 {
		t.Errorf("%d files on the stores after completion, want %d", n, 2*3+2)
	}
	if err := eng.Delete(ctx, "bkt", "big"); err != nil {
		t.Fatal(err)
	}
	if n := files(t, root); n != 0 {
		t.Errorf("%d files left after deleting the object", n)
	}
	// Abort: its parts go.
	up2, _ := eng.CreateUpload("bkt", "other", pol, nil)
	if _, err := eng.PutPart(ctx, "bkt", "other", up2.ID, 1, bytes.NewReader(parts[3]), PutOptions{Attrs: &Attrs{ETag: etag(parts[3])}}); err != nil {
		t.Fatal(err)
	}
	if err := eng.AbortUpload(ctx, "bkt", "other", up2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.PutPart(ctx, "bkt", "other", up2.ID, 2, bytes.NewReader(parts[3]), PutOptions{}); !errors.Is(err, ErrNoUpload) {
		t.Errorf("part after abort: %v", err)
	}
	if n := files(t, root); n != 0 {
		t.Errorf("%d files left after abort", n)
	}
	// Deleting the bucket ends its uploads.
	up3, _ := eng.CreateUpload("bkt", "third", pol, nil)
	if _, err := eng.PutPart(ctx, "bkt", "third", up3.ID, 1, bytes.NewReader(parts[3]), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if empty, _ := eng.Meta.Empty("bkt"); empty {
		t.Errorf("a bucket with an upload in progress counts as empty")
	}
	if err := eng.DeleteBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	if us, _ := eng.Uploads("bkt"); len(us) != 0 {
		t.Errorf("uploads after the bucket was deleted: %v", us)
	}
	if n := files(t, root); n != 0 {
		t.Errorf("%d files left after deleting the bucket", n)
	}
}

// files counts the regular files under root's store folders (not the
// metadata).
func files(t *testing.T, root string) int {
	t.Helper()
	n := 0
	for _, s := range []string{"d0", "d1"} {
		_ = filepath.WalkDir(filepath.Join(root, s), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
	}
	return n
}

// With a budget of one buffer, concurrent puts and reads all complete
// (none waits for a buffer while holding one), and a range opened and
// closed unread gives its buffers back.
func TestBudgetBoundsBuffersWithoutDeadlock(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 2, 0, 1000)
	r.eng.Budget = NewBudget(1)
	want := data(7500, 5)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%d", i)
			if _, err := r.eng.Put(ctx, "bkt", key, mirror("s0", "s1"), bytes.NewReader(want)); err != nil {
				errs <- err
				return
			}
			var out bytes.Buffer
			if _, _, err := r.eng.Get(ctx, "bkt", key, &out); err != nil || !bytes.Equal(out.Bytes(), want) {
				errs <- fmt.Errorf("%s: %v", key, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	man, _ := r.eng.Stat("bkt", "k0")
	rr, err := r.eng.OpenRange(ctx, man, 10, 5000)
	if err != nil {
		t.Fatal(err)
	}
	rr.Close()
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if n, err := r.eng.Budget.take(tctx, 1); err != nil || n != 1 {
		t.Fatalf("the budget was not given back: %v", err)
	}
}

// With the background collector, a replaced version's blocks go after
// the Put returns; what it leaves when stopped is on the garbage list.
func TestBackgroundCollector(t *testing.T) {
	r := newRig(t, 2, 0, 1000)
	stop := r.eng.StartCollector(context.Background())
	r.put(t, "k", mirror("s0", "s1"), data(3000, 1))
	before := r.count()
	for i := 0; i < 20; i++ {
		r.put(t, "k", mirror("s0", "s1"), data(3000, uint64(i+2)))
	}
	stop()
	// What the collector did not reach is on the garbage list.
	if err := r.eng.CollectGarbage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := r.count(); n != before {
		t.Errorf("%d keys on the stores after 20 overwrites and garbage collection, %d after the first put", n, before)
	}
	if g, _ := r.eng.Meta.Garbage(); len(g) != 0 {
		t.Errorf("%d versions left on the garbage list", len(g))
	}
	if got, _, err := r.get("k"); err != nil || !bytes.Equal(got, data(3000, 21)) {
		t.Errorf("the last version: %v", err)
	}
}

// A Put that collects a replaced version itself (the collector's queue
// is full) while stores change under it completes: it holds no lock of
// the engine's while it collects (it once did, and deadlocked nb serve
// against a reconcile pass under sustained overwrites).
func TestCollectingWithAFullQueueWhileStoresChange(t *testing.T) {
	r := newRig(t, 2, 0, 1000)
	r.eng.collector = make(chan *Manifest) // nobody reads: always full
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				r.eng.SetStore("s0", r.eng.store("s0"))
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			r.put(t, "k", mirror("s0", "s1"), data(3000, uint64(i)))
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("overwrites with a full collector queue while stores change did not finish: deadlock")
	}
	close(stop)
}
