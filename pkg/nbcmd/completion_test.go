package nbcmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
)

// TestCompletionScriptsRegisterDynamicCompletion: each shell's script
// registers a completion function for nb that asks `nb __complete` for
// candidates, so live names complete, not only the static command tree.
func TestCompletionScriptsRegisterDynamicCompletion(t *testing.T) {
	want := map[string][]string{
		"bash":       {"complete -o default -F __start_nb nb", `requestComp="${words[0]} __complete ${args[*]}"`},
		"zsh":        {"#compdef nb", "compdef _nb nb", "__complete"},
		"fish":       {"complete -c nb", "__complete"},
		"powershell": {"Register-ArgumentCompleter -CommandName 'nb'", "__complete"},
	}
	for shell, parts := range want {
		r := runNB(t, nil, "", "completion", shell)
		if r.code != 0 {
			t.Fatalf("completion %s: %+v", shell, r)
		}
		for _, p := range parts {
			if !strings.Contains(r.stdout, p) {
				t.Errorf("completion %s lacks %q", shell, p)
			}
		}
	}
	r := runNB(t, nil, "", "completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.stderr, `"tcsh" is not a shell`) {
		t.Errorf("unknown shell: %+v", r)
	}
	r = runNB(t, nil, "", "completion", "--help")
	for _, w := range []string{"source <(nb completion bash)", "_nb", "~/.config/fish/completions/nb.fish", "Invoke-Expression", "kubectl_complete-nb"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("completion --help lacks install help %q", w)
		}
	}
}

// TestBashCompletionCompletesLiveStoreNames runs the committed bash script
// in a real bash, with nb on the PATH (this test binary, acting as nb), and
// completes `nb backingstore status <TAB>` from a local state directory.
func TestBashCompletionCompletesLiveStoreNames(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	l := newLocalNB(t)
	l.ok(t, nil, "backingstore", "create", "pv-pool", "alpha", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "backingstore", "create", "pv-pool", "beta", "--num-volumes", "1", "--pv-size-gb", "16")

	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "nb")); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../../completions/nb.bash")
	if err != nil {
		t.Fatal(err)
	}
	// bash-completion's _get_comp_words_by_ref, reduced to what the script
	// uses, for machines without the bash-completion package.
	prog := `
if ! declare -F _get_comp_words_by_ref >/dev/null; then
  _get_comp_words_by_ref() { cur="${COMP_WORDS[COMP_CWORD]}"; prev="${COMP_WORDS[COMP_CWORD-1]}"; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
fi
source "$SCRIPT"
COMP_WORDS=(nb backingstore status "")
COMP_CWORD=3
COMP_LINE="nb backingstore status "
COMP_POINT=${#COMP_LINE}
__start_nb nb "" status
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "SCRIPT=" + script, "NB_TEST_BINARY_IS_NB=1",
		"NB_TARGET=local", "NB_STATE_DIR=" + l.dir, "HOME=" + t.TempDir()}
	var stderr strings.Builder
	cmd.Stderr = &stderr // compopt complains outside a real completion
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s%s", err, out, stderr.String())
	}
	got := strings.Fields(string(out))
	if len(got) != 3 || !strings.HasPrefix(got[0], "alpha") || !strings.HasPrefix(got[1], "beta") || got[2] != "noobaa-default-backing-store" {
		t.Errorf("completions %q, want alpha, beta and the default store", out)
	}
}

// TestAsKubectlPlugin: run as kubectl-nb (krew), usage reads "kubectl nb".
func TestAsKubectlPlugin(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Executable: "/home/me/.krew/bin/kubectl-nb", Getenv: func(string) string { return "" }}
	if code := Run(context.Background(), f, []string{"backingstore", "create", "--help"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "kubectl nb backingstore create") {
		t.Errorf("help as a kubectl plugin:\n%s", out.String())
	}
}

// Flag values complete after NAME is typed, and a list flag does not offer
// a name again.
func TestFlagCompletionAfterName(t *testing.T) {
	l := newLocalNB(t)
	l.ok(t, nil, "backingstore", "create", "pv-pool", "alpha", "--num-volumes", "1", "--pv-size-gb", "16")
	l.ok(t, nil, "bucketclass", "create", "placement-bucketclass", "c1", "--backingstores", "alpha")
	env := map[string]string{"NB_TARGET": "local", "NB_STATE_DIR": l.dir}
	r := runNB(t, env, "", "__complete", "obc", "create", "fb", "--bucketclass", "")
	if !strings.Contains(r.stdout, "c1\n") {
		t.Errorf("--bucketclass after NAME: %q", r.stdout)
	}
	r = runNB(t, env, "", "__complete", "bucketclass", "create", "placement-bucketclass", "x", "--backingstores", "alpha,")
	if strings.Contains(r.stdout, "alpha,alpha") || !strings.Contains(r.stdout, "alpha,noobaa-default-backing-store") {
		t.Errorf("--backingstores alpha,<TAB>: %q", r.stdout)
	}
}
