package placement

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// The data path's CPU cost on memory stores (no disk): what placement,
// checksums and erasure coding add. bench/datapath.sh measures it on disk
// against cp and raw reads.
func benchPut(b *testing.B, pol Policy) {
	r := newRig(b, 6, 0, DefaultChunkSize)
	payload := data(64<<20, 1)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.eng.Put(context.Background(), "bkt", "k", pol, bytes.NewReader(payload)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutMirror2(b *testing.B) { benchPut(b, mirror("s0", "s1")) }
func BenchmarkPutSpread6(b *testing.B) { benchPut(b, spread("s0", "s1", "s2", "s3", "s4", "s5")) }
func BenchmarkPutErasure4p2(b *testing.B) {
	benchPut(b, erasure(4, 2, "s0", "s1", "s2", "s3", "s4", "s5"))
}

func BenchmarkGetMirror2(b *testing.B) {
	r := newRig(b, 2, 0, DefaultChunkSize)
	payload := data(64<<20, 2)
	r.put(b, "k", mirror("s0", "s1"), payload)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := r.eng.Get(context.Background(), "bkt", "k", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
