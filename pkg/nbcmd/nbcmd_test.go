package nbcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
)

// testdataDir is the repository's top-level testdata folder.
var testdataDir = filepath.Join("..", "..", "testdata")

type result struct {
	stdout, stderr string
	code           int
}

// runNB runs nb in-process with the given environment (nothing else of the
// real environment is visible), stdin, and arguments. Relative file paths
// in args resolve against testdata/input.
func runNB(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	f := &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    func(k string) string { return env[k] },
		ReadFile: func(p string) ([]byte, error) {
			if !filepath.IsAbs(p) {
				p = filepath.Join(testdataDir, "input", p)
			}
			return os.ReadFile(p)
		},
	}
	code := Run(context.Background(), f, args)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func splitArgs(s string) []string { return strings.Fields(s) }

func TestRunMapsNoErrorToZero(t *testing.T) {
	r := runNB(t, nil, "", "obc", "create", "c1", "--dry-run=client")
	if r.code != 0 || r.stdout != "objectbucketclaim.objectbucket.io/c1 created (dry run)\n" || r.stderr != "" {
		t.Fatalf("got %+v", r)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"backingstore"}, {"backingstore", "create", "--help"}} {
		r := runNB(t, nil, "", args...)
		if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("Usage:")) {
			t.Errorf("%v: code %d, stdout %q", args, r.code, r.stdout)
		}
	}
}
