package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestPrecedence walks every combination of the three layers for one
// setting: the flag wins over the environment, which wins over the file,
// which wins over the default.
func TestPrecedence(t *testing.T) {
	cases := []struct {
		flag, env, file     string
		wantValue, wantFrom string
	}{
		{"", "", "", "30s", SourceDefault},
		{"", "", "3s", "3s", SourceFile},
		{"", "2s", "", "2s", SourceEnv},
		{"", "2s", "3s", "2s", SourceEnv},
		{"1s", "", "", "1s", SourceFlag},
		{"1s", "", "3s", "1s", SourceFlag},
		{"1s", "2s", "", "1s", SourceFlag},
		{"1s", "2s", "3s", "1s", SourceFlag},
	}
	for _, c := range cases {
		name := "flag=" + c.flag + " env=" + c.env + " file=" + c.file
		content := ""
		if c.file != "" {
			content = "request-timeout: " + c.file + "\n"
		}
		env := map[string]string{}
		if c.env != "" {
			env["NB_REQUEST_TIMEOUT"] = c.env
		}
		cfg, err := Load(envOf(env), writeFile(t, content))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		timeout := fs.String("request-timeout", "30s", "")
		var args []string
		if c.flag != "" {
			args = []string{"--request-timeout", c.flag}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		values, err := cfg.Apply("list", fs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got Value
		for _, v := range values {
			if v.Key == "request-timeout" {
				got = v
			}
		}
		if got.Source != c.wantFrom || got.Value != c.wantValue {
			t.Errorf("%s: resolved %q from %s, want %q from %s", name, got.Value, got.Source, c.wantValue, c.wantFrom)
		}
		if *timeout != c.wantValue && c.wantFrom != SourceDefault {
			t.Errorf("%s: the flag holds %q, want %q", name, *timeout, c.wantValue)
		}
	}
}

func TestOutputAppliesToListAndStatusOnly(t *testing.T) {
	cfg, err := Load(envOf(nil), writeFile(t, "output: wide\n"))
	if err != nil {
		t.Fatal(err)
	}
	for cmd, want := range map[string]string{"list": "wide", "status": "wide", "create": "", "verify": ""} {
		fs := pflag.NewFlagSet(cmd, pflag.ContinueOnError)
		out := fs.StringP("output", "o", "", "")
		if _, err := cfg.Apply(cmd, fs); err != nil {
			t.Fatal(err)
		}
		if *out != want {
			t.Errorf("%s: -o %q, want %q", cmd, *out, want)
		}
	}
}

func TestBadConfigurationIsNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	cases := []struct {
		env  map[string]string
		path string
		want string
	}{
		{nil, missing, "--config: configuration file " + missing + " does not exist"},
		{map[string]string{"NB_CONFIG": missing}, "", "NB_CONFIG: configuration file"},
		{nil, writeFile(t, "targett: local\n"), "unknown key targett: the keys are target, namespace"},
		{nil, writeFile(t, "target: [\n"), "not a valid configuration file"},
	}
	for _, c := range cases {
		_, err := Load(envOf(c.env), c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %s: got %v, want %q", c.env, c.path, err, c.want)
		}
	}
	// Values a flag rejects name their origin.
	path := writeFile(t, "color: purple\n")
	cfg, err := Load(envOf(nil), path)
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Duration("timeout", 0, "")
	_, err = cfg.Apply("create", fs)
	if err == nil || !strings.Contains(err.Error(), path+": color \"purple\" is not allowed: use auto, always or never") {
		t.Errorf("bad colour: %v", err)
	}
	cfg, _ = Load(envOf(map[string]string{"NB_TIMEOUT": "soon"}), writeFile(t, ""))
	if _, err = cfg.Apply("create", fs); err == nil || !strings.Contains(err.Error(), `NB_TIMEOUT: timeout "soon"`) {
		t.Errorf("bad duration: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	p := DefaultPath(envOf(map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}))
	q := DefaultPath(envOf(map[string]string{"HOME": "/h"}))
	if p != "/x/nb/config.yaml" || q != "/h/.config/nb/config.yaml" || DefaultPath(envOf(nil)) != "" {
		t.Errorf("default paths %s, %s", p, q)
	}
	// A missing default file is no error.
	cfg, err := Load(envOf(map[string]string{"XDG_CONFIG_HOME": t.TempDir()}), "")
	if err != nil || cfg.Found {
		t.Errorf("missing default file: %v, found %v", err, cfg != nil && cfg.Found)
	}
}
