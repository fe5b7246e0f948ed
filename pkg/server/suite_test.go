//go:build unix

package server_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/internal/versitygw"
)

// knownFailures reads testdata/s3-suite/known-failures.txt: test name to
// the reason nb fails it.
func knownFailures(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "s3-suite", "known-failures.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, why, _ := strings.Cut(line, " ")
		out[name] = strings.TrimSpace(why)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	colour    = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	suiteFail = regexp.MustCompile(`^FAIL ([A-Za-z0-9_]+)(:.*)?$`)
	suiteRan  = regexp.MustCompile(`^RAN: \d+ PASS: \d+ FAIL: \d+`)
)

// A public S3 compatibility suite, versitygw v1.8.0's integration tests
// (`versitygw test full-flow`, written against AWS S3's behaviour), run
// with NooBaa's admin keys against nb serve: every failure must be one
// testdata/s3-suite/known-failures.txt lists with its reason, and every
// test listed must still fail (a fixed one leaves the list).
// NB_S3_SUITE_OUT names a file to keep the suite's output in.
func TestPublicS3Suite(t *testing.T) {
	if testing.Short() {
		t.Skip("S3 tier: runs without -short")
	}
	bin, err := versitygw.Binary()
	if err != nil {
		t.Fatal(err)
	}
	known := knownFailures(t)
	s := newState(t)
	srv := s.serve(t, freeAddr(t))
	e := s.env(t, "status")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "test", "-a", e["AWS_ACCESS_KEY_ID"], "-s", e["AWS_SECRET_ACCESS_KEY"], "-e", "http://"+srv.addr, "full-flow")
	// Tests that run ./versitygw (its admin API) fail alike everywhere; the
	// suite's SDK refuses a CA bundle from the environment.
	cmd.Dir = t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	raw, _ := cmd.CombinedOutput() // it exits 1 when any test failed
	out := colour.ReplaceAllString(string(raw), "")
	if p := os.Getenv("NB_S3_SUITE_OUT"); p != "" {
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Error(err)
		}
	}
	var summary string
	failed := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if m := suiteFail.FindStringSubmatch(line); m != nil {
			failed[m[1]] = line
		}
		if suiteRan.MatchString(line) {
			summary = line
		}
	}
	if summary == "" {
		t.Fatalf("the suite did not finish:\n%s", tail(out, 40))
	}
	t.Log(summary)
	var unlisted, fixed []string
	for name, line := range failed {
		if _, ok := known[name]; !ok {
			unlisted = append(unlisted, clip(line, 300))
		}
	}
	for name := range known {
		if _, ok := failed[name]; !ok {
			fixed = append(fixed, name)
		}
	}
	slices.Sort(unlisted)
	slices.Sort(fixed)
	if len(unlisted) > 0 {
		t.Errorf("%d tests failed that known-failures.txt does not list:\n%s", len(unlisted), strings.Join(unlisted, "\n"))
	}
	if len(fixed) > 0 {
		t.Errorf("%d tests known-failures.txt lists passed now: remove them from it:\n%s", len(fixed), strings.Join(fixed, "\n"))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
