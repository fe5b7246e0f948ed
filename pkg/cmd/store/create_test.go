package store

import (
	"bufio"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/manifest"
)

func factory(ios *iostreams.IOStreams, env map[string]string) *cmdutil.Factory {
	return &cmdutil.Factory{
		IOStreams: ios,
		Getenv:    func(k string) string { return env[k] },
		ReadFile:  func(string) ([]byte, error) { return nil, nil },
		Namespace: func() (string, error) { return "noobaa", nil },
	}
}

// parse runs `create ARGS` and returns the options runF saw.
func parse(t *testing.T, kind manifest.StoreKind, args ...string) *CreateOptions {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *CreateOptions
	cmd := NewCmdCreate(factory(ios, nil), kind, func(o *CreateOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("runF was not called")
	}
	return got
}

func TestParseAWSFlags(t *testing.T) {
	o := parse(t, manifest.Backing, "aws-s3", "aws1", "--target-bucket", "bucket1", "--region", "eu-west-1",
		"--access-key", "AK", "--dry-run", "-o", "yaml", "--show-secrets")
	if o.Input.Name != "aws1" || o.Input.Type != "aws-s3" || o.Input.TargetBucket != "bucket1" || o.Input.Region != "eu-west-1" {
		t.Errorf("input %+v", o.Input)
	}
	if o.CredentialFlags["access-key"] != "AK" || len(o.CredentialFlags) != 1 {
		t.Errorf("credential flags %v: only the flags the user set belong there", o.CredentialFlags)
	}
	if o.Create.DryRun != create.DryRunClient || *o.Create.PrintFlags.OutputFormat != "yaml" || !o.Create.ShowSecrets {
		t.Errorf("create flags %+v", o.Create)
	}
}

func TestParsePVPoolFlags(t *testing.T) {
	o := parse(t, manifest.Backing, "pv-pool", "pv1", "--num-volumes", "3", "--pv-size-gb", "32",
		"--storage-class", "fast", "--request-cpu", "1", "--limit-memory", "2Gi")
	in := o.Input
	if in.NumVolumes != 3 || in.PVSizeGB != 32 || in.StorageClass != "fast" || in.RequestCPU != "1" || in.LimitMemory != "2Gi" {
		t.Errorf("input %+v", in)
	}
	if o.Create.DryRun != create.DryRunNone {
		t.Errorf("dry-run defaults to none, got %q", o.Create.DryRun)
	}
}

func TestParseNamespaceStoreFlags(t *testing.T) {
	o := parse(t, manifest.Namespace, "s3-compatible", "n1", "--endpoint", "http://x", "--target-bucket", "b",
		"--access-mode", "read-only", "--archive", "--signature-version", "v2")
	if o.Input.Kind != manifest.Namespace || o.Input.AccessMode != "read-only" || !o.Input.Archive || o.Input.SignatureVersion != "v2" {
		t.Errorf("input %+v", o.Input)
	}
}

func TestFlagsOnlyWhereTheyApply(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	for _, tc := range []struct {
		kind manifest.StoreKind
		typ  string
		flag string
	}{
		{manifest.Backing, "pv-pool", "target-bucket"},
		{manifest.Backing, "pv-pool", "access-key"},
		{manifest.Backing, "aws-s3", "endpoint"},
		{manifest.Backing, "aws-s3", "access-mode"},
		{manifest.Backing, "aws-sts-s3", "secret-key"},
		{manifest.Backing, "azure-blob", "target-bucket"},
		{manifest.Namespace, "aws-s3", "archive"},
	} {
		cmd := NewCmdCreate(factory(ios, nil), tc.kind, nil)
		sub, _, err := cmd.Find([]string{tc.typ})
		if err != nil {
			t.Fatal(err)
		}
		if sub.Flags().Lookup(tc.flag) != nil {
			t.Errorf("%s %s should not offer --%s", tc.kind, tc.typ, tc.flag)
		}
	}
}

// TestPromptOnTerminal answers hidden prompts on a (simulated) terminal
// and checks that the answers reach the Secret but are never echoed.
func TestPromptOnTerminal(t *testing.T) {
	ios, in, out, errOut := iostreams.Test()
	ios.SetStdinTTY(true)
	in.WriteString("AKIAPROMPTED\nprompted-secret\n")
	lines := bufio.NewReader(in)
	hidden := 0
	ios.SetPasswordReader(func(int) ([]byte, error) {
		hidden++
		l, err := lines.ReadString('\n')
		return []byte(strings.TrimSuffix(l, "\n")), err
	})
	var got *CreateOptions
	cmd := NewCmdCreate(factory(ios, nil), manifest.Backing, func(o *CreateOptions) error {
		got = o
		return o.Run(t.Context())
	})
	cmd.SetArgs([]string{"aws-s3", "aws1", "--target-bucket", "nb-bucket", "--dry-run", "-o", "name"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if hidden != 2 {
		t.Errorf("want 2 hidden prompts, got %d", hidden)
	}
	data := got.Objects.Secret.StringData
	if data[manifest.KeyAWSAccessKeyID] != "AKIAPROMPTED" || data[manifest.KeyAWSSecretAccessKey] != "prompted-secret" {
		t.Errorf("secret data %v", data)
	}
	if strings.Contains(errOut.String()+out.String(), "prompted-secret") {
		t.Errorf("secret echoed: stderr %q stdout %q", errOut, out)
	}
	if !strings.Contains(errOut.String(), "Secret access key: ") {
		t.Errorf("prompt not shown on stderr: %q", errOut)
	}
}

// TestFlagBeatsFileBeatsEnv checks the order of credential sources.
func TestFlagBeatsFileBeatsEnv(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	env := map[string]string{"AWS_ACCESS_KEY_ID": "from-env", "AWS_SECRET_ACCESS_KEY": "env-secret"}
	f := factory(ios, env)
	f.ReadFile = func(string) ([]byte, error) { return []byte("AWS_SECRET_ACCESS_KEY=file-secret\n"), nil }
	var got *CreateOptions
	cmd := NewCmdCreate(f, manifest.Backing, func(o *CreateOptions) error { got = o; return o.Run(t.Context()) })
	cmd.SetArgs([]string{"s3-compatible", "s1", "--endpoint", "http://x", "--target-bucket", "b1",
		"--credentials-file", "creds.env", "--dry-run", "-o", "name"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	data := got.Objects.Secret.StringData
	if data[manifest.KeyAWSAccessKeyID] != "from-env" || data[manifest.KeyAWSSecretAccessKey] != "file-secret" {
		t.Errorf("want the env access key and the file's secret key, got %v", data)
	}

	got = nil
	cmd = NewCmdCreate(f, manifest.Backing, func(o *CreateOptions) error { got = o; return o.Run(t.Context()) })
	cmd.SetArgs([]string{"s3-compatible", "s1", "--endpoint", "http://x", "--target-bucket", "b1",
		"--credentials-file", "creds.env", "--secret-key", "flag-secret", "--dry-run", "-o", "name"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if v := got.Objects.Secret.StringData[manifest.KeyAWSSecretAccessKey]; v != "flag-secret" {
		t.Errorf("the flag must win, got %q", v)
	}
}
