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
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/joho/godotenv"

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
		if fromFile, err = readFile(ctx, src.File, fields, src.ReadFile, src.Getenv); err != nil {
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

// readFile parses a credentials file. Two formats are accepted: an AWS
// shared credentials file (INI sections; the profile is $AWS_PROFILE or
// "default") for the access/secret key pair, and KEY=VALUE lines (dotenv
// syntax) whose keys are Secret keys or the fields' environment variables.
func readFile(ctx context.Context, path string, fields []Field, read func(string) ([]byte, error), getenv func(string) string) (map[string]string, error) {
	if read == nil {
		read = os.ReadFile
	}
	raw, err := read(path)
	if err != nil {
		return nil, exitcode.Usagef("--credentials-file", "cannot read %s: %v", path, unwrapPath(err))
	}
	if isINI(raw) {
		profile := ""
		if getenv != nil {
			profile = getenv("AWS_PROFILE")
		}
		return readAWSShared(ctx, path, raw, fields, profile)
	}
	kv, err := godotenv.UnmarshalBytes(raw)
	if err != nil {
		return nil, exitcode.Usagef("--credentials-file", "%s is neither KEY=VALUE lines nor an AWS credentials file: %v", path, err)
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
	if len(out) == 0 && len(unknown) > 0 {
		sort.Strings(unknown)
		var want []string
		for _, f := range fields {
			want = append(want, f.Key)
		}
		return nil, exitcode.Usagef("--credentials-file", "%s has none of the keys this store needs (%s); found %s",
			path, strings.Join(want, ", "), strings.Join(unknown, ", "))
	}
	return out, nil
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

func readAWSShared(ctx context.Context, path string, raw []byte, fields []Field, profile string) (map[string]string, error) {
	// The SDK reads shared credentials from files only; give it a private
	// copy so that a path like /dev/stdin or a pipe works too.
	dir, err := os.MkdirTemp("", "nb-creds-")
	if err != nil {
		return nil, fmt.Errorf("read credentials file: %w", err)
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, "credentials")
	if err := os.WriteFile(copyPath, raw, 0o600); err != nil {
		return nil, fmt.Errorf("read credentials file: %w", err)
	}
	if profile == "" {
		profile = "default"
	}
	sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = []string{copyPath}
		o.ConfigFiles = []string{}
	})
	if err != nil {
		return nil, exitcode.Usagef("--credentials-file", "%s: no usable profile %q (set AWS_PROFILE to pick another): %v", path, profile, err)
	}
	out := map[string]string{}
	for _, f := range fields {
		switch f.Role {
		case RoleAccessKey:
			out[f.Key] = sc.Credentials.AccessKeyID
		case RoleSecretKey:
			out[f.Key] = sc.Credentials.SecretAccessKey
		}
	}
	return out, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
