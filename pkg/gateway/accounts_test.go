package gateway

import (
	"errors"
	"reflect"
	"testing"

	"github.com/versity/versitygw/auth"
)

// The identity side of authorization, as versitygw reads it: one decision
// per resource and action, allowed only on the account's own bucket (and
// listing buckets), never CreateBucket; an unknown key is no account.
func TestEvaluatePolicy(t *testing.T) {
	a := &Accounts{}
	a.Set([]Account{{Access: "K1", Secret: "s", Bucket: "b1"}})
	if _, err := a.EvaluatePolicy("NOPE", "", []auth.Action{auth.GetObjectAction}, []string{auth.ResourceArnPrefix + "b1/x"}, nil); !errors.Is(err, auth.ErrNoSuchUser) {
		t.Errorf("unknown key: %v", err)
	}
	actions := []auth.Action{auth.GetObjectAction, auth.CreateBucketAction, auth.ListAllMyBucketsAction}
	resources := []string{auth.ResourceArnPrefix + "b1/x", auth.ResourceArnPrefix + "b1", auth.ResourceArnPrefix + "b10/x", "b1/x"}
	ev, err := a.EvaluatePolicy("K1", "", actions, resources, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{
		{decisionAllow, decisionNoMatch, decisionAllow},
		{decisionAllow, decisionNoMatch, decisionAllow},
		{decisionNoMatch, decisionNoMatch, decisionAllow},
		{decisionNoMatch, decisionNoMatch, decisionAllow},
	}
	d := reflect.ValueOf(ev.Decisions)
	if d.Len() != len(want) {
		t.Fatalf("%d rows for %d resources", d.Len(), len(want))
	}
	for i, row := range want {
		for j, w := range row {
			if got := d.Index(i).Index(j).Int(); got != w {
				t.Errorf("%s, %s: decision %d, want %d", resources[i], actions[j], got, w)
			}
		}
	}
}
