// Package credentials finds the values of a store's credential Secret
// without requiring them on the command line: from flags, a credentials
// file, the environment, or a hidden prompt on a terminal, in that order.
package credentials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/joho/godotenv"
	"gopkg.in/ini.v1"

	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
)

// Role tells which part of an AWS-style key pair a field is, so that an
// AWS shared credentials file can fill it.
type Role int

// Roles of credential fields.
const (
	RoleOther Role = iota
	RoleAccessKey
	RoleSecretKey
)

// Field is one value of a credential Secret.
type Field struct {
	// Key is the key in the Secret, e.g. AWS_ACCESS_KEY_ID.
	Key string
	// Flag is the command-line flag without dashes, e.g. access-key.
	Flag string
	// Env lists environment variables that may hold the value, in order.
	Env []string
	// Label is the prompt text.
	Label string
	// Hidden prompts without echo.
	Hidden bool
	Role   Role
}

// Source is where values may come from.
type Source struct {
	// Flags holds the values of flags the user set, by flag name.
	Flags map[string]string
	// File is the --credentials-file path, if any.
	File     string
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	// Prompt asks on a terminal; it returns iostreams.ErrNoTTY otherwise.
	Prompt func(label string, hidden bool) (string, error)
}

// Resolve returns the Secret data for fields. A value missing everywhere
// is a usage error that lists every way to provide it.
func Resolve(ctx context.Context, fields []Field, src Source) (map[string]string, error) {
	fromFile := map[string]string{}
	if src.File != "" {
		var err error
		if fromFile, err = readFile(src.File, fields, src.ReadFile, src.Getenv); err != nil {
			return nil, err
		}
	}
	out := map[string]string{}
	for _, f := range fields {
		if v := strings.TrimSpace(src.Flags[f.Flag]); v != "" {
			out[f.Key] = v
			continue
		}
		if v := fromFile[f.Key]; v != "" {
			out[f.Key] = v
			continue
		}
		if v := fromEnv(f, src.Getenv); v != "" {
			out[f.Key] = v
			continue
		}
		if src.Prompt == nil {
			return nil, missing(f, src.File)
		}
		v, err := src.Prompt(f.Label, f.Hidden)
		if errors.Is(err, iostreams.ErrNoTTY) {
			return nil, missing(f, src.File)
		}
		if err != nil {
			return nil, fmt.Errorf("prompt for %s: %w", f.Label, err)
		}
		if v == "" {
			return nil, exitcode.Usagef("--"+f.Flag, "%s is empty: type a value at the prompt, or pass --%s", f.Label, f.Flag)
		}
		out[f.Key] = v
	}
	return out, nil
}

func fromEnv(f Field, getenv func(string) string) string {
	if getenv == nil {
		return ""
	}
	for _, name := range f.Env {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
	}
	return ""
}

func missing(f Field, file string) error {
	ways := []string{"pass --" + f.Flag}
	if len(f.Env) > 0 {
		ways = append(ways, "set "+strings.Join(f.Env, " or "))
	}
	if file != "" {
		ways = append(ways, fmt.Sprintf("add %s to %s", f.Key, file))
	} else {
		ways = append(ways, "use --credentials-file")
	}
	ways = append(ways, "reuse a Secret with --secret-name")
	return exitcode.Usagef("--"+f.Flag, "%s is required and stdin is not a terminal to prompt on: %s", f.Label, strings.Join(ways, ", "))
}

// maxFileSize bounds a credentials file: a few keys, never megabytes.
const maxFileSize = 1 << 20

// readFile parses a credentials file. Two formats are accepted: an AWS
// shared credentials file (INI sections; the profile is $AWS_PROFILE or
// "default") for the access/secret key pair, and KEY=VALUE lines (dotenv
// syntax) whose keys are Secret keys or the fields' environment variables.
//
// No error quotes the file: a malformed line is named by its number, and
// a key is named only when it reads like a key (see keyName), because a
// value typed on the wrong line must not reach a terminal or a CI log.
func readFile(path string, fields []Field, read func(string) ([]byte, error), getenv func(string) string) (map[string]string, error) {
	if read == nil {
		read = os.ReadFile
	}
	raw, err := read(path)
	if err != nil {
		return nil, exitcode.Usagef("--credentials-file", "cannot read %s: %v", path, unwrapPath(err))
	}
	if len(raw) > maxFileSize {
		return nil, exitcode.Usagef("--credentials-file", "%s is %d bytes: a credentials file holds a few KEY=VALUE lines or an AWS credentials file", path, len(raw))
	}
	if isINI(raw) {
		profile := ""
		if getenv != nil {
			profile = getenv("AWS_PROFILE")
		}
		return readAWSShared(path, raw, fields, profile)
	}
	kv, err := godotenv.UnmarshalBytes(raw)
	if err != nil {
		return nil, exitcode.Usagef("--credentials-file", "%s: %s (values are not shown): write KEY=VALUE lines, or use an AWS credentials file",
			path, dotenvProblem(raw, err))
	}
	out := map[string]string{}
	known := map[string]bool{}
	for _, f := range fields {
		names := append([]string{f.Key}, f.Env...)
		for _, n := range names {
			known[n] = true
			if v := strings.TrimSpace(kv[n]); v != "" && out[f.Key] == "" {
				out[f.Key] = v
			}
		}
	}
	var unknown []string
	for k := range kv {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(out) == 0 {
		var want []string
		for _, f := range fields {
			want = append(want, f.Key)
		}
		return nil, exitcode.Usagef("--credentials-file", "%s has none of the keys this store needs (%s)%s",
			path, strings.Join(want, ", "), foundKeys(unknown))
	}
	return out, nil
}

// dotenvProblem says where godotenv stopped, by line number only: its own
// error quotes the text around the fault, which may be a secret. The bad
// line is the one after the longest run of whole lines that parses.
func dotenvProblem(raw []byte, err error) string {
	what := "a line is not KEY=VALUE"
	if strings.HasPrefix(err.Error(), "unterminated quoted value") {
		what = "a quoted value is not closed"
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	good := 0
	for i := range lines {
		if _, perr := godotenv.UnmarshalBytes(bytes.Join(lines[:i+1], nil)); perr == nil {
			good = i + 1
		}
	}
	bad := good + 1
	for bad <= len(lines) && len(bytes.TrimSpace(lines[bad-1])) == 0 {
		bad++
	}
	if bad > len(lines) {
		return what
	}
	return fmt.Sprintf("line %d: %s", bad, what)
}

// keyName reports whether a key found in a file may be shown: upper-case
// words joined by underscores, as environment variables and Secret keys
// are. Anything else may be a value written where a key belongs.
func keyName(k string) bool {
	if len(k) == 0 || len(k) > 64 || !strings.Contains(k, "_") || k[0] < 'A' || k[0] > 'Z' {
		return false
	}
	for _, c := range k {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// foundKeys lists, for an error, the keys a file had that no field uses.
func foundKeys(keys []string) string {
	if len(keys) == 0 {
		return "; it has no keys"
	}
	sort.Strings(keys)
	var shown []string
	hidden := 0
	for _, k := range keys {
		if keyName(k) {
			shown = append(shown, k)
		} else {
			hidden++
		}
	}
	switch {
	case hidden == 0:
		return "; found " + strings.Join(shown, ", ")
	case len(shown) == 0:
		return fmt.Sprintf("; found %d other key(s), not shown as they do not read like key names", hidden)
	default:
		return fmt.Sprintf("; found %s and %d more not shown", strings.Join(shown, ", "), hidden)
	}
}

func isINI(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == ';' {
			continue
		}
		return line[0] == '['
	}
	return false
}

// readAWSShared reads the access/secret key pair of a profile of an AWS
// shared credentials file (go-ini, in memory: the file is never copied).
func readAWSShared(path string, raw []byte, fields []Field, profile string) (map[string]string, error) {
	if profile == "" {
		profile = "default"
	}
	f, err := ini.LoadSources(ini.LoadOptions{IgnoreInlineComment: true}, raw)
	if err != nil {
		where := ""
		var dn ini.ErrDelimiterNotFound
		if errors.As(err, &dn) {
			if n := lineOf(raw, dn.Line); n > 0 {
				where = fmt.Sprintf(" line %d:", n)
			}
		}
		return nil, exitcode.Usagef("--credentials-file", "%s:%s not an AWS credentials file: every line in a [profile] section is key = value (values are not shown)", path, where)
	}
	// Profile names are matched exactly, as the AWS SDKs do; go-ini's
	// implicit section (lines before the first [profile]) is not one.
	var sec *ini.Section
	for _, s := range f.Sections() {
		if s.Name() == profile && s.Name() != ini.DefaultSection {
			sec = s
		}
	}
	if sec == nil {
		return nil, exitcode.Usagef("--credentials-file", "%s has no [%s] profile: set AWS_PROFILE to one of its sections", path, profile)
	}
	out := map[string]string{}
	for _, fl := range fields {
		var name string
		switch fl.Role {
		case RoleAccessKey:
			name = "aws_access_key_id"
		case RoleSecretKey:
			name = "aws_secret_access_key"
		default:
			continue
		}
		v := ""
		for _, k := range sec.Keys() {
			if strings.EqualFold(k.Name(), name) {
				v = strings.TrimSpace(k.String())
			}
		}
		if v == "" {
			return nil, exitcode.Usagef("--credentials-file", "%s: profile [%s] has no %s", path, profile, name)
		}
		out[fl.Key] = v
	}
	return out, nil
}

// lineOf is the number of the first line of raw that is line (trimmed).
func lineOf(raw []byte, line string) int {
	line = strings.TrimSpace(line)
	for i, l := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(l) == line {
			return i + 1
		}
	}
	return 0
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
