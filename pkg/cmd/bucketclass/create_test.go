package bucketclass

import (
	"reflect"
	"testing"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/manifest"
)

func parse(t *testing.T, args ...string) *CreateOptions {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Namespace: func() (string, error) { return "noobaa", nil }}
	var got *CreateOptions
	cmd := NewCmdCreate(f, func(o *CreateOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestParsePlacement(t *testing.T) {
	o := parse(t, "placement-bucketclass", "m1", "--backingstores", "a,b", "--placement", "Mirror", "--max-size", "5Gi")
	want := []manifest.TierInput{{Flag: "--backingstores", Placement: "Mirror", Stores: []string{"a", "b"}}}
	if !reflect.DeepEqual(o.Input.Tiers, want) || o.Input.MaxSize != "5Gi" || o.Input.Name != "m1" {
		t.Errorf("input %+v", o.Input)
	}
}

func TestParseTwoTiers(t *testing.T) {
	o := parse(t, "placement-bucketclass", "t1", "--tier", "Mirror:a, b", "--tier", "Spread:c,d")
	want := []manifest.TierInput{
		{Flag: "--tier", Placement: "Mirror", Stores: []string{"a", "b"}},
		{Flag: "--tier", Placement: "Spread", Stores: []string{"c", "d"}},
	}
	if !reflect.DeepEqual(o.Input.Tiers, want) {
		t.Errorf("tiers %+v", o.Input.Tiers)
	}
}

func TestParseNamespaceCache(t *testing.T) {
	o := parse(t, "namespace-bucketclass", "cache", "c1", "--hub-resource", "hub", "--ttl", "-1", "--backingstores", "pv1")
	n := o.Input.NamespacePolicy
	if n == nil || n.Type != "cache" || n.HubResource != "hub" || n.TTL != -1 || len(o.Input.Tiers) != 1 {
		t.Errorf("input %+v policy %+v", o.Input, n)
	}
}
