package placement

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
)

func tagsOf(t *testing.T, r *rig, key string) map[string]string {
	t.Helper()
	man, err := r.eng.Stat("bkt", key)
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	if man.Attrs == nil {
		return nil
	}
	return man.Attrs.Tags
}

// A tag change reaches the manifest copies; a store that was down keeps
// an older copy, and recovery from the stores takes the newest whatever
// the order it reads them in; deleting the object leaves nothing behind.
func TestTagsReachTheStoresAndSurviveRecovery(t *testing.T) {
	for _, packed := range []bool{false, true} {
		name := "extents"
		if packed {
			name = "packed"
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, 2, 0, 1<<20)
			ctx := context.Background()
			if packed {
				r.putSmall(t, "k", mirror("s0", "s1"), data(300, 1))
			} else {
				r.put(t, "k", mirror("s0", "s1"), data(300, 1))
			}
			man, err := r.eng.SetTags(ctx, "bkt", "k", map[string]string{"a": "1"})
			if err != nil || man.Rev != 1 || man.Copies != packed {
				t.Fatalf("set tags: rev %d copies %v, %v", man.Rev, man.Copies, err)
			}
			r.offline("s1") // read last by Recover: its copy must not win
			want := map[string]string{"b": "2", "c": ""}
			if _, err := r.eng.SetTags(ctx, "bkt", "k", want); err != nil {
				t.Fatal(err)
			}
			r.offline()
			if got := tagsOf(t, r, "k"); !maps.Equal(got, want) {
				t.Fatalf("tags %v, want %v", got, want)
			}
			meta, err := OpenMeta(filepath.Join(t.TempDir(), "fresh.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer meta.Close()
			old := r.eng.Meta
			r.eng.Meta = meta
			if rep, err := r.eng.Recover(ctx, "bkt"); err != nil || rep.Restored != 1 {
				t.Fatalf("recover: %+v %v", rep, err)
			}
			if got := tagsOf(t, r, "k"); !maps.Equal(got, want) {
				t.Errorf("recovered tags %v, want %v", got, want)
			}
			r.eng.Meta = old
			if err := r.eng.Delete(ctx, "bkt", "k"); err != nil {
				t.Fatal(err)
			}
			for name, m := range r.mems {
				var left []string
				m.List(ctx, "manifests/", func(k string) error { left = append(left, k); return nil })
				if len(left) != 0 {
					t.Errorf("%s keeps %v after the delete", name, left)
				}
			}
		})
	}
}

// A repair that read the manifest before a tag change keeps the change.
func TestRepairKeepsATagChangeMadeMeanwhile(t *testing.T) {
	r := newRig(t, 2, 0, 1024)
	ctx := context.Background()
	r.offline("s1")
	r.put(t, "k", mirror("s0", "s1"), data(3000, 2))
	r.offline()
	stale, err := r.eng.Stat("bkt", "k")
	if err != nil || !stale.Degraded {
		t.Fatalf("stat: degraded %v, %v", stale.Degraded, err)
	}
	before, _ := r.eng.Stat("bkt", "k") // Repair updates stale in place
	want := map[string]string{"team": "data"}
	if _, err := r.eng.SetTags(ctx, "bkt", "k", want); err != nil {
		t.Fatal(err)
	}
	if rep, err := r.eng.Repair(ctx, stale); err != nil || len(rep.Healed) != 1 {
		t.Fatalf("repair: %+v %v", rep, err)
	}
	man, _ := r.eng.Stat("bkt", "k")
	if got := tagsOf(t, r, "k"); man.Degraded || man.Rev != 2 || !maps.Equal(got, want) {
		t.Errorf("after repair: degraded %v rev %d tags %v", man.Degraded, man.Rev, got)
	}
	// A move that read the object before a tag change does not commit.
	if err := r.eng.replace(ctx, before, mirror("s0", "s1")); !errors.Is(err, ErrReplaced) {
		t.Errorf("replace with a stale manifest: %v, want ErrReplaced", err)
	}
	if got := tagsOf(t, r, "k"); !maps.Equal(got, want) {
		t.Errorf("tags after the refused move %v", got)
	}
}

func TestSetTagsRefusesWhatS3Does(t *testing.T) {
	r := newRig(t, 1, 0, 1024)
	ctx := context.Background()
	if _, err := r.eng.SetTags(ctx, "bkt", "none", map[string]string{"a": "b"}); !errors.Is(err, ErrNoObject) {
		t.Errorf("tags on a missing object: %v", err)
	}
	r.put(t, "k", mirror("s0"), data(10, 3))
	many := map[string]string{}
	for i := range MaxTags + 1 {
		many[string(rune('a'+i))] = "v"
	}
	if _, err := r.eng.SetTags(ctx, "bkt", "k", many); err == nil {
		t.Error("11 tags accepted")
	}
	if _, err := r.eng.SetTags(ctx, "bkt", "k", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.eng.SetTags(ctx, "bkt", "k", nil); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, r, "k"); got != nil {
		t.Errorf("tags after removal %v", got)
	}
}

// Bucket settings: kept per bucket and kind, read from memory while the
// file is held, refused for a missing bucket, gone with their bucket
// (and not seen by a bucket of a name that starts the same).
func TestBucketSettingsGoWithTheirBucket(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, 1, 0, 1024)
	m := r.eng.Meta
	if err := m.Hold(); err != nil {
		t.Fatal(err)
	}
	pol := mirror("s0")
	if err := m.SetBucketSetting("b", SettingCORS, []byte("<x/>")); !errors.Is(err, ErrNoBucket) {
		t.Errorf("a setting of a missing bucket: %v", err)
	}
	for _, name := range []string{"b", "b2"} {
		if err := m.CreateBucket(Bucket{Name: name, Policy: pol}, map[string]string{"k": name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.SetBucketSetting("b", SettingCORS, []byte("<cors/>")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read is from memory
		if v, err := m.BucketSetting("b", SettingCORS); err != nil || string(v) != "<cors/>" {
			t.Fatalf("cors: %q %v", v, err)
		}
		if v, err := m.BucketSetting("b", SettingWebsite); err != nil || v != nil {
			t.Fatalf("no website: %q %v", v, err)
		}
	}
	if tags, err := m.BucketTags("b2"); err != nil || tags["k"] != "b2" {
		t.Errorf("b2's tags: %v %v", tags, err)
	}
	if err := r.eng.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.BucketSetting("b", SettingCORS); !errors.Is(err, ErrNoBucket) {
		t.Errorf("a deleted bucket's setting: %v", err)
	}
	if err := m.CreateBucket(Bucket{Name: "b", Policy: pol}, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := m.BucketSetting("b", SettingCORS); err != nil || v != nil {
		t.Errorf("a bucket made again under the name has the old one's CORS: %q %v", v, err)
	}
	if tags, err := m.BucketTags("b"); err != nil || tags != nil {
		t.Errorf("... or its tags: %v %v", tags, err)
	}
	if tags, err := m.BucketTags("b2"); err != nil || tags["k"] != "b2" {
		t.Errorf("b2 lost its tags with b: %v %v", tags, err)
	}
	many := map[string]string{}
	for i := range MaxBucketTags + 1 {
		many[fmt.Sprint(i)] = "v"
	}
	if err := m.SetBucketTags("b2", many); err == nil {
		t.Error("51 bucket tags accepted")
	}
}
