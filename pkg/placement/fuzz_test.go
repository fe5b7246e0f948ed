package placement

import (
	"bytes"
	"testing"
	"time"
)

func sampleManifest() *Manifest {
	return &Manifest{
		Version: ManifestVersion, Bucket: "b", Key: "k", ObjectID: "0123456789abcdef0123456789abcdef",
		SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Size: 150, ChunkSize: 100,
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Tiers:   []Tier{{Placement: "Mirror", Stores: []string{"a", "b"}}, {Placement: "Spread", Stores: []string{"c", "d", "e"}, DataShards: 2, ParityShards: 1}},
		Chunks: []Chunk{
			{Size: 100, CRC: 7, Tier: 0, Placement: "Mirror", Blocks: []Block{{Store: "a", Key: "blocks/x", Shard: -1, Size: 100, CRC: 7}, {Store: "b", Key: "blocks/x0", Extent: true, Off: 4096, Shard: -1, Size: 100, CRC: 7}}},
			{Size: 50, CRC: 9, Tier: 1, Placement: "Spread", DataShards: 2, ParityShards: 1, Blocks: []Block{
				{Store: "c", Key: "blocks/y.0", Shard: 0, Size: 25, CRC: 1}, {Store: "d", Key: "blocks/y.2", Shard: 2, Size: 25, CRC: 2}}},
		},
	}
}

// FuzzDecodeManifest: the decoder never panics, and whatever it accepts
// is valid and survives a round trip unchanged.
func FuzzDecodeManifest(f *testing.F) {
	good, err := EncodeManifest(sampleManifest())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"chunks":[{"size":-1}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeManifest(raw)
		if err != nil {
			return
		}
		again, err := EncodeManifest(m)
		if err != nil {
			t.Fatalf("accepted manifest does not re-encode: %v", err)
		}
		m2, err := DecodeManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v", err)
		}
		third, _ := EncodeManifest(m2)
		if !bytes.Equal(again, third) {
			t.Fatal("manifest round trip is not stable")
		}
	})
}

// FuzzOpenBlock: the block decoder never panics, and a block it accepts
// has the payload the header's CRC and length describe.
func FuzzOpenBlock(f *testing.F) {
	b := make([]byte, headerSize+5)
	copy(b[headerSize:], "hello")
	sealBlock(b, kindData)
	f.Add(b)
	f.Add([]byte("NBK1"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		payload, err := openBlock(raw, kindData)
		if err != nil {
			return
		}
		resealed := make([]byte, headerSize+len(payload))
		copy(resealed[headerSize:], payload)
		sealBlock(resealed, kindData)
		if !bytes.Equal(resealed, raw) {
			t.Fatal("an accepted block differs from its re-sealed payload")
		}
	})
}

func TestBlockRejectsEveryFlippedBit(t *testing.T) {
	b := make([]byte, headerSize+64)
	for i := range b[headerSize:] {
		b[headerSize+i] = byte(i)
	}
	sealBlock(b, kindData)
	for i := 0; i < len(b)*8; i++ {
		c := append([]byte(nil), b...)
		c[i/8] ^= 1 << (i % 8)
		if _, err := openBlock(c, kindData); err == nil {
			t.Fatalf("bit %d flipped and the block was accepted", i)
		}
	}
}
