package obc

import (
	"testing"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
)

func TestParseClaim(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Namespace: func() (string, error) { return "storage", nil }}
	var got *CreateOptions
	cmd := NewCmdCreate(f, func(o *CreateOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"claim1", "--bucketclass", "m1", "--exact", "--max-objects", "10"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	in := got.Input
	if in.Name != "claim1" || in.BucketClass != "m1" || !in.Exact || in.MaxObjects != "10" || in.UID != -1 || in.GID != -1 {
		t.Errorf("input %+v", in)
	}
	if in.AppNamespace != "storage" || in.NooBaaNamespace != "storage" {
		t.Errorf("--app-namespace defaults to -n: %+v", in)
	}
}

// RunE completes and validates before runF: a flag-level test sees the
// same usage errors as a user, and runF is not called.
func TestValidationBeforeRunF(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Namespace: func() (string, error) { return "storage", nil }}
	for _, args := range [][]string{{"c1", "--exact"}, {"claim1", "--dry-run=maybe"}, {"claim1", "--uid", "5"}} {
		called := false
		cmd := NewCmdCreate(f, func(o *CreateOptions) error { called = true; return nil })
		cmd.SetArgs(args)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		if err == nil || called || exitcode.Of(err) != exitcode.Usage {
			t.Errorf("%v: err %v (exit %d), runF called %v; want a usage error before runF", args, err, exitcode.Of(err), called)
		}
	}
}
