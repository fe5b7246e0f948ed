package nbcmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
)

// runTTY runs nb in-process with stdout a terminal or not.
func runTTY(t *testing.T, env map[string]string, tty bool, args ...string) result {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	f := &cmdutil.Factory{IOStreams: ios, Getenv: func(k string) string { return env[k] }, ReadFile: os.ReadFile}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, f, args)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// configHome writes $XDG_CONFIG_HOME/nb/config.yaml and returns the
// environment that points nb at it.
func configHome(t *testing.T, content string) map[string]string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "nb"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "nb", "config.yaml"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"XDG_CONFIG_HOME": home}
}

func TestConfigFileEnvAndFlagsDriveCommands(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	env := configHome(t, "target: local\nstate-dir: "+state+"\nnamespace: from-file\n")

	r := runTTY(t, env, false, "backingstore", "list")
	if r.code != 0 || !strings.Contains(r.stderr, "nb: local target, state in "+state) || !strings.Contains(r.stderr, `in namespace "from-file"`) {
		t.Fatalf("file layer: %+v", r)
	}
	env["NB_NAMESPACE"] = "from-env"
	if r = runTTY(t, env, false, "backingstore", "list"); !strings.Contains(r.stderr, `in namespace "from-env"`) {
		t.Errorf("env over file: %+v", r)
	}
	if r = runTTY(t, env, false, "backingstore", "list", "-n", "from-flag"); !strings.Contains(r.stderr, `in namespace "from-flag"`) {
		t.Errorf("flag over env: %+v", r)
	}

	r = runTTY(t, env, false, "config", "view", "-o", "json", "--request-timeout", "9s")
	var view struct {
		File     string
		Found    bool
		Settings []struct{ Key, Value, Source, Origin string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &view); err != nil || !view.Found {
		t.Fatalf("config view: %v\n%+v", err, r)
	}
	got := map[string]string{}
	for _, s := range view.Settings {
		got[s.Key] = s.Value + " from " + s.Source + " " + s.Origin
	}
	want := map[string]string{
		"target":          "local from file " + view.File,
		"namespace":       "from-env from env NB_NAMESPACE",
		"request-timeout": "9s from flag --request-timeout",
		"state-dir":       state + " from file " + view.File,
		"color":           "auto from default default",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("config view %s: %q, want %q", k, got[k], w)
		}
	}

	// A typo in the file is named with the keys there are; exit 2.
	bad := configHome(t, "namespce: x\n")
	if r = runTTY(t, bad, false, "backingstore", "list"); r.code != 2 || !strings.Contains(r.stderr, "unknown key namespce: the keys are target, namespace") {
		t.Errorf("typo in the file: %+v", r)
	}
	if r = runTTY(t, nil, false, "config", "view", "-o", "xml"); r.code != 2 || !strings.Contains(r.stderr, `--output: "xml" is not supported`) {
		t.Errorf("config view -o xml: %+v", r)
	}
	if r = runTTY(t, nil, false, "backingstore", "list", "--config", "/nonexistent.yaml"); r.code != 2 || !strings.Contains(r.stderr, "--config: configuration file /nonexistent.yaml does not exist") {
		t.Errorf("missing --config: %+v", r)
	}
}

func TestColourOnlyOnATerminalWithoutNO_COLOR(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	local := []string{"--target", "local", "--state-dir", state}
	if r := runTTY(t, nil, false, append([]string{"backingstore", "create", "pv-pool", "pv1", "--num-volumes", "1", "--pv-size-gb", "16"}, local...)...); r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	const esc = "\x1b["
	cases := []struct {
		name  string
		env   map[string]string
		tty   bool
		flags []string
		color bool
	}{
		{"terminal", nil, true, nil, true},
		{"piped", nil, false, nil, false},
		{"terminal with NO_COLOR", map[string]string{"NO_COLOR": "1"}, true, nil, false},
		{"terminal with TERM=dumb", map[string]string{"TERM": "dumb"}, true, nil, false},
		{"piped with --color always", nil, false, []string{"--color", "always"}, true},
		{"terminal with --color never", nil, true, []string{"--color", "never"}, false},
		{"terminal with NB_COLOR=never", map[string]string{"NB_COLOR": "never"}, true, nil, false},
		{"NO_COLOR with --color always", map[string]string{"NO_COLOR": "1"}, false, []string{"--color", "always"}, true},
	}
	for _, c := range cases {
		args := append(append([]string{"backingstore", "list"}, local...), c.flags...)
		r := runTTY(t, c.env, c.tty, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "pv1") {
			t.Fatalf("%s: %+v", c.name, r)
		}
		if got := strings.Contains(r.stdout, esc); got != c.color {
			t.Errorf("%s: colour %v, want %v:\n%q", c.name, got, c.color, r.stdout)
		}
	}
	if r := runTTY(t, nil, false, append([]string{"backingstore", "list", "--color", "sometimes"}, local...)...); r.code != 2 || !strings.Contains(r.stderr, `--color: "sometimes" is not allowed: use auto, always or never`) {
		t.Errorf("bad --color: %+v", r)
	}
}
