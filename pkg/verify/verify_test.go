package verify

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/placement"
)

func TestFailureSets(t *testing.T) {
	mirror := placement.Policy{Tiers: []placement.Tier{{Placement: "Mirror", Stores: []string{"a", "b", "c"}}}}
	ec := placement.Policy{Tiers: []placement.Tier{{Placement: "Spread", Stores: []string{"a", "b", "c", "d"}, DataShards: 2, ParityShards: 1}}}
	spread := placement.Policy{Tiers: []placement.Tier{{Placement: "Spread", Stores: []string{"a", "b"}}}}
	tiers := placement.Policy{Tiers: []placement.Tier{{Placement: "Mirror", Stores: []string{"a", "b"}}, {Placement: "Spread", Stores: []string{"c"}}}}
	for _, tc := range []struct {
		name string
		pol  placement.Policy
		only []string
		want [][]string
	}{
		{"mirror", mirror, nil, [][]string{{"a"}, {"b"}, {"c"}, {"a", "b", "c"}}},
		{"mirror, only a", mirror, []string{"a"}, [][]string{{"a"}}},
		{"erasure 2+1", ec, nil, [][]string{{"a"}, {"b"}, {"c"}, {"d"}, {"a", "b"}}},
		{"plain spread", spread, nil, [][]string{{"a"}, {"b"}}},
		{"two tiers", tiers, nil, [][]string{{"a"}, {"b"}, {"c"}, {"a", "b"}}},
	} {
		if got := FailureSets(tc.pol, tc.only); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJudgeAndConclude(t *testing.T) {
	cases := []Case{
		{Failed: []string{"a"}, Promised: true, Result: ResultIntact},
		{Failed: []string{"a", "b"}, Promised: false, Result: ResultUnavailable},
	}
	for i := range cases {
		cases[i].Judge()
	}
	r := &Report{Cases: cases}
	r.Conclude()
	if !r.OK || !strings.Contains(r.Verdict, "unavailable without a+b") {
		t.Errorf("promise held: %+v", r)
	}
	broken := Case{Failed: []string{"b"}, Promised: true, Result: ResultUnavailable}
	broken.Judge()
	wrong := Case{Failed: []string{"c"}, Promised: false, Result: ResultDifferent}
	wrong.Judge()
	if broken.OK || wrong.OK {
		t.Errorf("a broken promise or different data judged OK: %v %v", broken.OK, wrong.OK)
	}
	r = &Report{Cases: append(cases, broken, wrong)}
	r.Conclude()
	if r.OK || !strings.HasPrefix(r.Verdict, "FAILED") || !strings.Contains(r.Verdict, "b, c") {
		t.Errorf("broken: %+v", r)
	}
}

func TestGeneratedIsDeterministic(t *testing.T) {
	hash := func(seed uint64) string {
		h := NewHasher()
		if _, err := io.Copy(h, Generated(seed, 1<<20+17)); err != nil {
			t.Fatal(err)
		}
		if h.N() != 1<<20+17 {
			t.Fatalf("size %d", h.N())
		}
		return h.Sum()
	}
	if hash(1) != hash(1) || hash(1) == hash(2) {
		t.Error("the same seed must give the same bytes, and another seed other bytes")
	}
}
