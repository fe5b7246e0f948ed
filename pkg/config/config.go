// Package config holds nb's settings that a user can fix once instead of
// passing flags every time: a YAML file ($XDG_CONFIG_HOME/nb/config.yaml,
// or --config), NB_* environment variables, and the flags themselves, with
// the precedence flag > environment > file > default. Reading the file and
// the environment and merging the layers is viper's job; this package
// names the settings, applies the effective values to a parsed command's
// flags, and says where each came from.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Setting is one configurable value, named the same in the file (key), the
// environment (NB_ + key in upper case, - as _) and on the command line.
type Setting struct {
	Key string
	// Default describes the default for `nb config view`; the flag's own
	// default is what takes effect.
	Default string
	Help    string
	// Allowed lists the accepted values, when there are few.
	Allowed []string
	// Commands limits the setting to these command names (e.g. output
	// only for list and status); empty means every command with the flag.
	Commands []string
}

// Env is the environment variable of the setting.
func (s Setting) Env() string {
	return "NB_" + strings.ToUpper(strings.ReplaceAll(s.Key, "-", "_"))
}

// Settings are every configurable value.
var Settings = []Setting{
	{Key: "target", Default: "auto", Allowed: []string{"auto", "local", "kube"},
		Help: "where nb works: kube (a cluster), local (the embedded control plane) or auto"},
	{Key: "namespace", Default: `the kubeconfig context's, else "noobaa"`, Help: "the namespace NooBaa runs in"},
	{Key: "kubeconfig", Default: "$KUBECONFIG, else ~/.kube/config", Help: "the kubeconfig file"},
	{Key: "context", Default: "the kubeconfig's current context", Help: "the kubeconfig context"},
	{Key: "request-timeout", Default: "30s", Help: "how long one API request may take"},
	{Key: "timeout", Default: "5m", Help: "how long --wait (and verify's temporary claim) may wait"},
	{Key: "output", Default: "a table", Commands: []string{"list", "status"},
		Help: "the default -o of list and status (wide, json, yaml, name, jsonpath=..., go-template=...)"},
	{Key: "color", Default: "auto", Allowed: []string{"auto", "always", "never"},
		Help: "colour: auto (on a terminal, unless NO_COLOR is set), always or never"},
	{Key: "state-dir", Default: "$XDG_STATE_HOME/nb, else ~/.local/state/nb", Help: "the local target's state directory"},
	{Key: "manual-default-backing-store", Default: "false", Allowed: []string{"true", "false"},
		Help: "set up a new state directory without the default backing store and bucket class"},
}

// Lookup returns the setting named key.
func Lookup(key string) (Setting, bool) {
	for _, s := range Settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// Error is a configuration problem and where it lies: a flag, an
// environment variable or the file.
type Error struct {
	Origin string
	Err    error
}

func (e *Error) Error() string { return e.Origin + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(origin, format string, args ...any) error {
	return &Error{Origin: origin, Err: fmt.Errorf(format, args...)}
}

// Sources of a value.
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceFile    = "file"
	SourceDefault = "default"
)

// Config is the file and environment layers, ready to apply to a command.
type Config struct {
	// Path is the configuration file consulted; Found says whether it
	// exists.
	Path  string
	Found bool

	v      *viper.Viper
	getenv func(string) string
}

// DefaultPath is $XDG_CONFIG_HOME/nb/config.yaml, else
// $HOME/.config/nb/config.yaml; "" when neither variable is set (then no
// file is read).
func DefaultPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "nb", "config.yaml")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "nb", "config.yaml")
	}
	return ""
}

// Load reads the configuration file (path, else NB_CONFIG, else the
// default path; a missing default file is no error, a missing named one
// is) and the NB_* environment through getenv.
func Load(getenv func(string) string, path string) (*Config, error) {
	explicit, flagName := path != "", "--config"
	if path == "" {
		if path = getenv("NB_CONFIG"); path != "" {
			explicit, flagName = true, "NB_CONFIG"
		}
	}
	if path == "" {
		path = DefaultPath(getenv)
	}
	c := &Config{Path: path, v: viper.New(), getenv: getenv}
	if path == "" {
		return c, nil
	}
	c.v.SetConfigFile(path)
	c.v.SetConfigType("yaml")
	err := c.v.ReadInConfig()
	switch {
	case err == nil:
		c.Found = true
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	case errors.Is(err, fs.ErrNotExist):
		return nil, errorf(flagName, "configuration file %s does not exist", path)
	default:
		return nil, errorf(path, "not a valid configuration file: %w", err)
	}
	var unknown []string
	for _, k := range c.v.AllKeys() {
		if _, ok := Lookup(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, errorf(path, "unknown key %s: the keys are %s", strings.Join(unknown, ", "), strings.Join(keys(), ", "))
	}
	return c, nil
}

func keys() []string {
	out := make([]string, len(Settings))
	for i, s := range Settings {
		out[i] = s.Key
	}
	return out
}

// Value is a setting's effective value and where it came from.
type Value struct {
	Setting
	Value  string
	Source string
	// Origin names the source precisely: --flag, NB_X or the file's path.
	Origin string
}

// Resolve returns the effective value of s for a command whose flags are
// fs (nil: no flags given): the flag if it was set, else the environment,
// else the file, else the default.
func (c *Config) Resolve(s Setting, fs *pflag.FlagSet) Value {
	if fs != nil {
		if fl := fs.Lookup(s.Key); fl != nil && fl.Changed {
			return Value{Setting: s, Value: fl.Value.String(), Source: SourceFlag, Origin: "--" + s.Key}
		}
	}
	if val := c.getenv(s.Env()); val != "" {
		return Value{Setting: s, Value: val, Source: SourceEnv, Origin: s.Env()}
	}
	if c.Found && c.v.InConfig(s.Key) {
		return Value{Setting: s, Value: c.v.GetString(s.Key), Source: SourceFile, Origin: c.Path}
	}
	return Value{Setting: s, Value: s.Default, Source: SourceDefault, Origin: "default"}
}

// Apply sets every flag of the command (named cmdName) that was not given
// on the command line from the environment or the file, and returns the
// effective values. A value a flag rejects is an error naming where it
// came from.
func (c *Config) Apply(cmdName string, fs *pflag.FlagSet) ([]Value, error) {
	var out []Value
	for _, s := range Settings {
		mine := len(s.Commands) == 0 || slices.Contains(s.Commands, cmdName)
		flags := fs
		if !mine { // e.g. verify's -o is not the output setting
			flags = nil
		}
		v := c.Resolve(s, flags)
		out = append(out, v)
		if v.Source == SourceDefault {
			continue
		}
		if len(s.Allowed) > 0 && !slices.Contains(s.Allowed, v.Value) {
			if v.Source == SourceFlag {
				return nil, errorf(v.Origin, "%q is not allowed: use %s", v.Value, orList(s.Allowed))
			}
			return nil, errorf(v.Origin, "%s %q is not allowed: use %s", s.Key, v.Value, orList(s.Allowed))
		}
		if v.Source == SourceFlag || !mine {
			continue
		}
		fl := fs.Lookup(s.Key)
		if fl == nil {
			continue
		}
		if err := fl.Value.Set(v.Value); err != nil {
			return nil, errorf(v.Origin, "%s %q: %w", s.Key, v.Value, err)
		}
		// Counted as given, so that it beats defaults computed later (the
		// kubeconfig context's namespace).
		fl.Changed = true
	}
	return out, nil
}

// orList spells values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
