package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
		h := NewWholeHasher()
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

// The pieces do not depend on how the stream was cut into writes, and a
// changed byte, a missing tail or an extra byte are found where they are.
func TestHasherComparesPiecesWhateverTheWrites(t *testing.T) {
	data := make([]byte, 5*PieceSize+123)
	if _, err := io.ReadFull(Generated(3, int64(len(data))), data); err != nil {
		t.Fatal(err)
	}
	hashIn := func(b []byte, sizes ...int) *Hasher {
		h := NewWholeHasher()
		for i := 0; len(b) > 0; i++ {
			n := min(len(b), sizes[i%len(sizes)])
			if _, err := h.Write(b[:n]); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
		return h
	}
	want := hashIn(data, len(data))
	sum := sha256.Sum256(data)
	if want.Sum() != hex.EncodeToString(sum[:]) || len(want.Digests()) != 6 {
		t.Fatalf("whole %s, %d pieces", want.Sum(), len(want.Digests()))
	}
	up, size := want.Digests(), int64(len(data))
	for _, sizes := range [][]int{{4097}, {PieceSize}, {4 * PieceSize}, {7, PieceSize - 3, 3 * PieceSize}, {len(data)}} {
		if off := hashIn(data, sizes...).FirstDifference(up, size); off != -1 {
			t.Errorf("writes of %v: a difference at %d in the same bytes", sizes, off)
		}
	}
	bad := bytes.Clone(data)
	bad[3*PieceSize+5] ^= 1
	if off := hashIn(bad, 2*PieceSize+1).FirstDifference(up, size); off != 3*PieceSize {
		t.Errorf("a flipped byte in piece 3 found at %d", off)
	}
	// The last piece is then another piece.
	if off := hashIn(data[:len(data)-1], PieceSize).FirstDifference(up, size); off != 5*PieceSize {
		t.Errorf("a missing last byte found at %d", off)
	}
	if off := hashIn(append(bytes.Clone(data), 0), PieceSize).FirstDifference(up, size); off != 5*PieceSize {
		t.Errorf("an extra byte found at %d", off)
	}
	if off := NewHasher().FirstDifference(up, size); off != 0 {
		t.Errorf("nothing read found at %d", off)
	}
	if off := hashIn(data[:3*PieceSize], PieceSize).FirstDifference(up, size); off != 3*PieceSize {
		t.Errorf("a read that stops after 3 MiB found at %d", off)
	}
}

func TestCompareSaysWhereAReadDiffers(t *testing.T) {
	data := make([]byte, 3*PieceSize)
	if _, err := io.ReadFull(Generated(9, int64(len(data))), data); err != nil {
		t.Fatal(err)
	}
	h := NewWholeHasher()
	h.Write(data)
	up := upload{sha256: h.Sum(), size: int64(len(data)), digests: h.Digests()}
	same := NewHasher()
	same.Write(data)
	var c Case
	c.compare(same, up)
	if c.Result != ResultIntact || c.SHA256 != up.sha256 || c.FirstDifference != nil {
		t.Errorf("the same bytes: %+v", c)
	}
	data[2*PieceSize] ^= 0x80
	other := NewHasher()
	other.Write(data)
	c = Case{}
	c.compare(other, up)
	if c.Result != ResultDifferent || c.SHA256 != "" || c.FirstDifference == nil || *c.FirstDifference != 2*PieceSize {
		t.Errorf("a changed byte at 2 MiB: %+v", c)
	}
}
