// Package placement is nb's embedded data path: it stores objects on a set
// of block stores (package blockstore) the way a BucketClass says, so that
// `nb verify` can upload an object, really fail stores and read it back
// without NooBaa itself.
//
// # Writing
//
// An object is read as a stream and cut into chunks of ChunkSize bytes
// (default 4 MiB; the last one shorter). Parallelism workers write chunks
// at once from a fixed set of Parallelism+1 buffers, so memory stays about
// ChunkSize × (Parallelism+1) whatever the object's size. The object's
// SHA-256 is computed alongside, in chunk order, on the same buffers.
// Each chunk goes to the first tier of the policy that takes it:
//
//   - Mirror: the chunk is written to every store of the tier in parallel
//     and acknowledged when every reachable store holds it (NooBaa itself
//     mirrors asynchronously, so right after its PUT a single copy may
//     exist; here there is no such window). A store that is down is
//     skipped and the object is marked Degraded.
//   - Spread: the chunk goes to one store of the tier, chosen by weighted
//     rendezvous hashing of (object, chunk, store) with the stores' free
//     space as weights: deterministic, and proportional to free space. A
//     store that is down or full passes the chunk to the next in rank.
//   - Spread with erasure coding (K+M, the BucketClass annotation
//     nb.noobaa.io/erasure-coding): the chunk is split into K data and M
//     parity shards (klauspost/reedsolomon), each on a different store of
//     the tier; any K shards rebuild the chunk, so the tier survives M lost
//     stores. When the first tier is erasure-coded, chunks are read
//     straight into their data shards' blocks (no copy); the chunk's
//     CRC-32C is combined from the data shards' CRCs.
//
// On a store that holds extents (blockstore.Extents: dir stores), the
// blocks one tier of a Put places on the store all go into one extent,
// each at its chunk's slot (chunk index × the tier's largest block,
// header included, rounded up to 4 KiB), and the extents are committed
// (fsync, rename) once every chunk is written. An extent that fails to
// commit takes its blocks out of the chunks: the object is Degraded, or
// the Put fails if a chunk is left unreadable. Other stores (S3) get a key
// per block. Reading a large object is then a sequential read of a few
// files per store instead of one file per chunk, which is what lets a
// local disk read at its own speed.
//
// When every chunk is written, the manifest is copied to every store that
// holds a block of the object, and then committed to the metadata store
// (bbolt) in one transaction. Only then does the new version become
// visible; the previous version's blocks are deleted afterwards. A crash
// or error before the commit leaves the previous version intact, and the
// new blocks are deleted (or collected later by Scrub).
//
// A small object whose length is known (PutOptions.Length, at most
// PackMax and one chunk) on stores that append (dir stores) is written
// instead as one record appended to a pack per store: its manifest block
// then its data block. Records are written without waiting; the commit
// group's leader syncs the packs its group wrote, then commits the whole
// group in one transaction (pack.go: counts, dead records, compaction).
//
// # S3 objects and multipart uploads
//
// PutWith is Put with what an S3 PUT adds: attributes stored in the
// manifest (ETag, content headers, user metadata, checksum), more hashes
// computed alongside the object's (MD5 for the ETag), a last check before
// the commit and a precondition evaluated in the commit's transaction.
// An S3 object leaves the SHA-256 out (its ETag and the blocks' CRC-32Cs
// cover it).
//
// A multipart upload writes each part like an object that is never
// committed: its blocks and extents are on the stores and the part is
// recorded in the metadata (buckets "uploads" and "parts"). Completing
// the upload composes the object from the listed parts' chunks, in order,
// without copying a byte: its chunks are ChunkSize long except the last
// of each part, and its manifest lists the parts ("parts") whose extents
// hold its blocks, so that deleting it deletes those too. Parts replaced,
// left out of the completion, or aborted go to the garbage list.
//
// ListPage reads one page of a bucket's keys in byte order, with S3's
// prefix, delimiter and marker: a common prefix is skipped in one cursor
// seek, so a page costs the same in a bucket of any size.
//
// # Reading
//
// Get reads chunks in order with Parallelism chunks in flight. A Mirror
// read starts each chunk at a different copy, so that a read spreads over
// the stores; copies in extents are read from one copy per object (a
// sequential read of one file), different objects from different copies. Every block's header CRC and its
// manifest entry (size, CRC-32C) are checked; a
// missing, unreachable or corrupt block is replaced by another copy or
// rebuilt from parity. With VerifyObjectHash the whole object's SHA-256 is
// checked at the end too (off by default: it caps reads near 1.4 GB/s, and
// the per-block checks already place every verified chunk at its index).
// Wrong bytes are never returned: a chunk with no good copy fails the
// read with ErrUnreadable.
//
// # Deleting
//
// Delete removes the object from the metadata (its manifest moves to the
// garbage list in the same transaction) and then deletes its blocks and
// manifest copies. What a down store still holds stays on the garbage
// list until CollectGarbage reaches it. Meanwhile a tombstone ("bkt/key
// was deleted at time T") is written to the object's stores that are up,
// so that Recover, even with the metadata lost, does not bring the object
// back from the down store's manifest copy; DeleteBucket does the same
// with one tombstone for the whole bucket. CollectGarbage removes a
// tombstone once no dead version of its object remains on any store.
// With every store up, a delete writes no tombstone.
//
// # Repair
//
// Heal re-creates the copies and shards degraded objects lack once their
// stores are back. A repaired block is always written under a key of its
// own (never into an extent, which is immutable once committed); deleting
// the object deletes its extents on every store of its tiers even when no
// chunk refers to them any more. Scrub reads every block of every object, repairs what a
// good copy or parity can rebuild, and reports what is lost. Recover
// rebuilds a bucket's metadata from the manifest copies on its stores: for
// each key the newest version not covered by a tombstone (or the garbage
// list) wins; the dead and older versions it finds are deleted.
//
// # On-store layout
//
// Every store holds three kinds of entries under its root (a dir volume,
// or a prefix of an S3 bucket):
//
//	blocks/<id[0:2]>/<id>/x<tier>           an extent: the object's blocks of tier <tier> on the store
//	blocks/<id[0:2]>/<id>/<chunk>           a full copy of chunk <chunk> (Mirror, Spread)
//	blocks/<id[0:2]>/<id>/<chunk>.<shard>   shard <shard> of an erasure-coded chunk
//	manifests/<bucket>/<h>/<id>             a copy of the object's manifest
//	tombstones/<bucket>/<h>                 the object was deleted (see Deleting)
//	tombstones/<bucket>/bucket              the bucket was deleted
//	packs/<pid>-<random>                    a pack: records of small objects, appended by process <pid>
//
// where <id> is the 32-hex-digit random ID of one version of one object
// and <h> the first 16 bytes of SHA-256(object key) in hex (object keys are
// arbitrary; store keys are not). All are blocks, or in an extent a
// sequence of blocks at their slots (zeros between them): a 16-byte header
// followed by the payload. A dir store keeps an extent as one file per
// volume it touches, each holding 1 GiB runs of the extent's offsets (see package
// dir).
//
//	offset  size  field
//	0       4     magic "NBK1"
//	4       1     format version, 1
//	5       1     kind: 1 data, 2 manifest, 3 tombstone, 4 a dead record's data block
//	6       2     reserved, zero
//	8       4     payload length, big endian
//	12      4     CRC-32C (Castagnoli) of the payload, big endian
//
// # Manifest format
//
// The manifest (format version 1) is JSON:
//
//	{"v":1, "bucket":"b", "key":"k", "id":"<32 hex>", "size":N,
//	 "sha256":"<64 hex>", "created":"RFC 3339", "chunkSize":4194304,
//	 "degraded":false,
//	 "attrs":{"etag":"<md5 hex>","contentType":"text/plain","meta":{"k":"v"}},
//	 "parts":[{"n":1,"id":"<32 hex>","size":N,"etag":"<md5 hex>"}, ...],
//	 "tiers":[{"placement":"Mirror","stores":["pv1","aws1"]},
//	          {"placement":"Spread","stores":["a","b","c"],"k":2,"m":1}],
//	 "chunks":[{"size":4194304,"crc":123,"tier":0,"placement":"Mirror",
//	            "blocks":[{"store":"pv1","key":"blocks/..","shard":-1,"size":4194304,"crc":123}, ...]},
//	           {"size":100,"crc":456,"tier":1,"placement":"Spread","k":2,"m":1,
//	            "blocks":[{"store":"a","key":"blocks/...0","shard":0,"size":50,"crc":789}, ...]}]}
//
// "sha256" is empty for S3 objects, "attrs" absent for objects nb verify
// wrote itself, "parts" present only for a multipart object. "tiers" is the policy the object was written with and tells Heal where
// copies belong. A copy block has shard -1 and the chunk's size and CRC; a
// shard block has its shard number and the shard's size (ceil(size/k)) and
// CRC. A block in an extent has "extent":true and its byte offset in the
// extent, "off" (omitted when 0); a block in a pack also has "pack":true
// (in the record's own copy of the manifest its "off" is 0: the record's
// position on that store tells it). DecodeManifest rejects any manifest whose sizes, shards, tiers or
// placements do not add up.
//
// # Tombstone format
//
//	{"v":1, "bucket":"b", "key":"k", "deleted":"RFC 3339 with nanoseconds"}
//
// "key" is absent in a bucket's tombstone. Every version of the object
// (of any object of the bucket) created at or before "deleted" is dead.
package placement
