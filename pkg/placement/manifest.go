package placement

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// ManifestVersion is the manifest format version nb writes.
const ManifestVersion = 1

// Limits a manifest must respect (also what the decoder enforces).
const (
	MaxChunkSize   = 64 << 20
	MaxShards      = 32
	maxChunks      = 1 << 24
	maxBlocksChunk = 64
)

// Manifest describes one version of an object: where every block of
// every chunk is and how to check it. It is kept in the metadata store
// and, so that a bucket can be recovered from its stores alone, on every
// store that holds a block of the object.
type Manifest struct {
	Version  int       `json:"v"`
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	ObjectID string    `json:"id"`
	Size     int64     `json:"size"`
	SHA256   string    `json:"sha256"`
	Created  time.Time `json:"created"`
	// ChunkSize is the size of every chunk but the last; in an object
	// composed of parts, of every chunk but the last of each part.
	ChunkSize int `json:"chunkSize"`
	// Degraded is set when a write could not place every copy or shard
	// the policy asks for; heal clears it.
	Degraded bool `json:"degraded,omitempty"`
	// Tiers is the policy the object was written with; Chunk.Tier
	// indexes it. Heal uses it to know where copies belong.
	Tiers  []Tier  `json:"tiers"`
	Chunks []Chunk `json:"chunks"`
	// Attrs are what an S3 client set on the object (nil for objects nb
	// verify wrote through the data path itself).
	Attrs *Attrs `json:"attrs,omitempty"`
	// Parts are the uploaded parts a multipart object was composed of, in
	// order: their chunks are the object's, their extents hold its blocks.
	Parts []Part `json:"parts,omitempty"`
	// Upload is the ID of the multipart upload the object was completed
	// from: a retried completion of it succeeds, as on S3.
	Upload string `json:"upload,omitempty"`
	// Rev counts the rewrites of this version's manifest (a repair, a tag
	// change): of two copies of one version the higher Rev is the newer.
	Rev int `json:"rev,omitempty"`
	// Copies is set on a packed object once its manifest changed after
	// the write: every store holding a block of it then holds a manifest
	// copy too (the pack records keep the manifest as first written).
	Copies bool `json:"copies,omitempty"`
}

// Attrs are an object's S3 attributes.
type Attrs struct {
	// ETag is the hex MD5 of the object, or for a multipart object the
	// MD5 of its parts' MD5s with "-<parts>" after it.
	ETag               string `json:"etag,omitempty"`
	ContentType        string `json:"contentType,omitempty"`
	ContentEncoding    string `json:"contentEncoding,omitempty"`
	ContentDisposition string `json:"contentDisposition,omitempty"`
	ContentLanguage    string `json:"contentLanguage,omitempty"`
	CacheControl       string `json:"cacheControl,omitempty"`
	Expires            string `json:"expires,omitempty"`
	// WebsiteRedirect is x-amz-website-redirect-location.
	WebsiteRedirect string `json:"websiteRedirect,omitempty"`
	// Meta is the user metadata (x-amz-meta-*), keys in lower case.
	Meta map[string]string `json:"meta,omitempty"`
	// Checksum is the x-amz-checksum-* the object was uploaded with:
	// algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and base64 value.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
	Checksum          string `json:"checksum,omitempty"`
	// ChecksumType is FULL_OBJECT or COMPOSITE.
	ChecksumType string `json:"checksumType,omitempty"`
	// PartCRC64NVME is, on a part of an upload created without a checksum
	// algorithm, the part's CRC64NVME: the parts' compose the object's
	// (S3's default checksum) when the part's own checksum is another.
	PartCRC64NVME string `json:"partCRC64NVME,omitempty"`
	// Tags are the object's tag set (S3 object tagging): at most
	// MaxTags.
	Tags map[string]string `json:"tags,omitempty"`
}

// MaxTags is the most tags an object may have (S3's limit).
const MaxTags = 10

// Part is one uploaded part of a multipart object: the ID its blocks were
// written under, its size and ETag.
type Part struct {
	Number   int    `json:"n"`
	ObjectID string `json:"id"`
	Size     int64  `json:"size"`
	ETag     string `json:"etag"`
	// Checksum is the part's checksum in the object's algorithm (base64),
	// when the object has one.
	Checksum string `json:"checksum,omitempty"`
}

// Chunk is a slice of the object and the blocks that hold it.
type Chunk struct {
	Size int    `json:"size"`
	CRC  uint32 `json:"crc"`
	Tier int    `json:"tier"`
	// Placement is Mirror (every block is a full copy) or Spread; with
	// ParityShards > 0 the blocks are Reed-Solomon shards.
	Placement    string  `json:"placement"`
	DataShards   int     `json:"k,omitempty"`
	ParityShards int     `json:"m,omitempty"`
	Blocks       []Block `json:"blocks"`
}

// Block is one copy (Shard -1) or one shard of a chunk on a store: the
// block under Key, or with Extent the block at offset Off of the extent
// under Key.
type Block struct {
	Store  string `json:"store"`
	Key    string `json:"key"`
	Extent bool   `json:"extent,omitempty"`
	Off    int64  `json:"off,omitempty"`
	// Pack: the extent is a pack shared by many small objects (pack.go),
	// never deleted with the object.
	Pack  bool   `json:"pack,omitempty"`
	Shard int    `json:"shard"`
	Size  int    `json:"size"`
	CRC   uint32 `json:"crc"`
}

// clone is a deep copy: callers may change what they get.
func (m *Manifest) clone() *Manifest {
	c := *m
	c.Tiers = make([]Tier, len(m.Tiers))
	for i, t := range m.Tiers {
		t.Stores = append([]string(nil), t.Stores...)
		c.Tiers[i] = t
	}
	c.Chunks = make([]Chunk, len(m.Chunks))
	for i, ch := range m.Chunks {
		ch.Blocks = append([]Block(nil), ch.Blocks...)
		c.Chunks[i] = ch
	}
	c.Parts = append([]Part(nil), m.Parts...)
	if m.Attrs != nil {
		a := *m.Attrs
		a.Meta = maps.Clone(m.Attrs.Meta)
		a.Tags = maps.Clone(m.Attrs.Tags)
		c.Attrs = &a
	}
	return &c
}

// Erasure reports whether the chunk is erasure coded.
func (c *Chunk) Erasure() bool { return c.ParityShards > 0 }

// ErrBadManifest means a manifest failed to decode or validate.
var ErrBadManifest = errors.New("invalid manifest")

// EncodeManifest serializes a manifest.
func EncodeManifest(m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// DecodeManifest parses and validates a manifest.
func DecodeManifest(b []byte) (*Manifest, error) {
	m := &Manifest{}
	if err := decodeJSON(b, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadManifest, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadManifest, fmt.Sprintf(format, args...))
}

// Validate checks that a manifest is self-consistent: sizes add up, every
// chunk has blocks of its placement's shape, and nothing is out of range.
func (m *Manifest) Validate() error {
	switch {
	case m.Version != ManifestVersion:
		return bad("version %d", m.Version)
	case m.Bucket == "" || m.Key == "":
		return bad("no bucket or key")
	case len(m.ObjectID) != 32 || !isHex(m.ObjectID):
		return bad("object id %q", m.ObjectID)
	case m.SHA256 != "" && (len(m.SHA256) != 64 || !isHex(m.SHA256)):
		return bad("sha256 %q", m.SHA256)
	case m.Size < 0:
		return bad("size %d", m.Size)
	case m.ChunkSize <= 0 || m.ChunkSize > MaxChunkSize:
		return bad("chunk size %d", m.ChunkSize)
	case len(m.Chunks) > maxChunks:
		return bad("%d chunks", len(m.Chunks))
	case len(m.Tiers) < 1 || len(m.Tiers) > 2:
		return bad("%d tiers", len(m.Tiers))
	case m.Rev < 0:
		return bad("rev %d", m.Rev)
	case m.Attrs != nil && len(m.Attrs.Tags) > MaxTags:
		return bad("%d tags", len(m.Attrs.Tags))
	}
	if err := (Policy{Tiers: m.Tiers}).Validate(); err != nil {
		return bad("policy: %v", err)
	}
	// A chunk shorter than ChunkSize ends the object or one of its parts.
	ends := map[int64]bool{m.Size: true}
	var partTotal int64
	for i, p := range m.Parts {
		if len(p.ObjectID) != 32 || !isHex(p.ObjectID) || p.Size < 0 || p.Number < 1 {
			return bad("part %d", i)
		}
		partTotal += p.Size
		ends[partTotal] = true
	}
	if len(m.Parts) > 0 && partTotal != m.Size {
		return bad("parts hold %d bytes, size is %d", partTotal, m.Size)
	}
	var total int64
	for i := range m.Chunks {
		c := &m.Chunks[i]
		if c.Size <= 0 || c.Size > m.ChunkSize || (c.Size != m.ChunkSize && !ends[total+int64(c.Size)]) {
			return bad("chunk %d size %d", i, c.Size)
		}
		total += int64(c.Size)
		if err := c.validate(i, m.Tiers); err != nil {
			return err
		}
	}
	if total != m.Size {
		return bad("chunks hold %d bytes, size is %d", total, m.Size)
	}
	return nil
}

func (c *Chunk) validate(i int, tiers []Tier) error {
	if c.Tier < 0 || c.Tier >= len(tiers) {
		return bad("chunk %d tier %d", i, c.Tier)
	}
	if t := tiers[c.Tier]; t.Placement != c.Placement || t.DataShards != c.DataShards || t.ParityShards != c.ParityShards {
		return bad("chunk %d does not follow its tier's placement", i)
	}
	if len(c.Blocks) == 0 || len(c.Blocks) > maxBlocksChunk {
		return bad("chunk %d has %d blocks", i, len(c.Blocks))
	}
	switch c.Placement {
	case "Mirror", "Spread":
	default:
		return bad("chunk %d placement %q", i, c.Placement)
	}
	if c.Erasure() {
		if c.DataShards < 1 || c.ParityShards < 1 || c.DataShards+c.ParityShards > MaxShards {
			return bad("chunk %d has %d+%d shards", i, c.DataShards, c.ParityShards)
		}
		shardSize := (c.Size + c.DataShards - 1) / c.DataShards
		seen := map[int]bool{}
		for j, b := range c.Blocks {
			if b.Shard < 0 || b.Shard >= c.DataShards+c.ParityShards || seen[b.Shard] {
				return bad("chunk %d block %d shard %d", i, j, b.Shard)
			}
			seen[b.Shard] = true
			if b.Size != shardSize {
				return bad("chunk %d shard %d size %d, want %d", i, b.Shard, b.Size, shardSize)
			}
			if err := b.validate(i, j); err != nil {
				return err
			}
		}
		return nil
	}
	if c.DataShards != 0 {
		return bad("chunk %d has data shards without parity", i)
	}
	for j, b := range c.Blocks {
		if b.Shard != -1 || b.Size != c.Size || b.CRC != c.CRC {
			return bad("chunk %d copy %d does not match the chunk", i, j)
		}
		if err := b.validate(i, j); err != nil {
			return err
		}
	}
	return nil
}

func (b *Block) validate(i, j int) error {
	if b.Store == "" || b.Key == "" || len(b.Key) > 512 {
		return bad("chunk %d block %d has no store or key", i, j)
	}
	if b.Off < 0 || (b.Off != 0 && !b.Extent) {
		return bad("chunk %d block %d offset %d", i, j, b.Off)
	}
	return nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// decodeJSON decodes what the hot paths read back (a GET's or a listing's
// manifest) with encoding/json/v2's decoder (go-json-experiment/json, its
// mirror, until Go 1.27 ships it): about half the time of encoding/json's
// for a small manifest, which was a tenth of a 4 KiB GET's CPU. Manifests
// are still written with encoding/json; what it writes, this reads the
// same (exact names, valid UTF-8, no duplicate names; unknown names are
// ignored, so newer fields do not break an older reader).
func decodeJSON(b []byte, v any) error { return jsonv2.Unmarshal(b, v) }
