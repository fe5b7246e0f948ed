package gendocs

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestGeneratedFilesAreCurrent regenerates the reference, the man pages
// and the completion scripts and compares them with the committed ones:
// a command or flag changed without `make docs completions` fails here.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	tmp := t.TempDir()
	steps := []struct {
		committed string
		gen       func(string) error
		pattern   string
		fix       string
	}{
		{"../../docs/reference", Reference, "*.md", "make docs"},
		{"../../docs/man", Man, "*.1", "make docs"},
		{"../../completions", Completions, "*", "make completions"},
	}
	for _, s := range steps {
		dir := filepath.Join(tmp, filepath.Base(s.committed))
		if err := s.gen(dir); err != nil {
			t.Fatal(err)
		}
		want := files(t, dir, s.pattern)
		got := files(t, s.committed, s.pattern)
		for name, content := range want {
			if old, ok := got[name]; !ok {
				t.Errorf("%s/%s is missing: run %s", s.committed, name, s.fix)
			} else if old != content {
				t.Errorf("%s/%s is out of date: run %s", s.committed, name, s.fix)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s/%s is no longer generated: run %s", s.committed, name, s.fix)
			}
		}
		if len(want) == 0 {
			t.Errorf("nothing generated for %s", s.committed)
		}
	}
}

func files(t *testing.T, dir, pattern string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = string(b)
	}
	return out
}

// TestManPagesHaveNoDate: the drift check depends on it.
func TestManPagesHaveNoDate(t *testing.T) {
	dir := t.TempDir()
	if err := Man(dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "nb.1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `.TH "NB" "1" "" "nb" "nb manual"`; !slices.Contains(strings.Split(string(b), "\n"), want) {
		t.Errorf("nb.1 header is not %q:\n%.200s", want, b)
	}
}
