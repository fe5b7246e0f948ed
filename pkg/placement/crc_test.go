package placement

import (
	"math/rand/v2"
	"testing"
)

func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20+37)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	cuts := []int{0, 1, 3, 4096, 1 << 19, len(data) - 1, len(data)}
	for range 50 {
		cuts = append(cuts, rng.IntN(len(data)+1))
	}
	want := crc(data)
	for _, cut := range cuts {
		a, b := data[:cut], data[cut:]
		if got := crcCombine(crc(a), crc(b), len(b)); got != want {
			t.Fatalf("cut at %d: combined %08x, want %08x", cut, got, want)
		}
	}
	// Several pieces, as a chunk's data shards are combined.
	sum := uint32(0) // the CRC of nothing
	for off := 0; off < len(data); off += 300007 {
		piece := data[off:min(off+300007, len(data))]
		sum = crcCombine(sum, crc(piece), len(piece))
	}
	if sum != want {
		t.Fatalf("pieces combined %08x, want %08x", sum, want)
	}
	// A changed byte anywhere changes the combination.
	data[777] ^= 1
	if crcCombine(crc(data[:500]), crc(data[500:]), len(data)-500) == want {
		t.Fatal("a flipped bit in the second piece went unnoticed")
	}
}

func FuzzCRCCombine(f *testing.F) {
	f.Add([]byte("hello, world"), 5)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		if cut < 0 || cut > len(data) {
			return
		}
		if got, want := crcCombine(crc(data[:cut]), crc(data[cut:]), len(data)-cut), crc(data); got != want {
			t.Fatalf("combined %08x, want %08x", got, want)
		}
	})
}
