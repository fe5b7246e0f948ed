package obc

import (
	"testing"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
)

func TestParseClaim(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Namespace: func() (string, error) { return "storage", nil }}
	var got *CreateOptions
	cmd := NewCmdCreate(f, func(o *CreateOptions) error { got = o; return o.Complete() })
	cmd.SetArgs([]string{"c1", "--bucketclass", "m1", "--exact", "--max-objects", "10"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	in := got.Input
	if in.Name != "c1" || in.BucketClass != "m1" || !in.Exact || in.MaxObjects != "10" || in.UID != -1 || in.GID != -1 {
		t.Errorf("input %+v", in)
	}
	if in.AppNamespace != "storage" || in.NooBaaNamespace != "storage" {
		t.Errorf("--app-namespace defaults to -n: %+v", in)
	}
}
