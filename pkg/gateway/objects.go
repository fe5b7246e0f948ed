package gateway

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/placement"
)

// maxKeyLen is S3's limit on an object key, in bytes.
const maxKeyLen = 1024

func quote(etag string) string { return `"` + etag + `"` }

// modified is the time an S3 client is told an object (or part) was
// written. S3's wire formats carry whole seconds (versitygw writes RFC 3339
// without a fraction), so the exact time is rounded up, never down: a client
// comparing it with a local file's mtime (aws s3 sync does) must never see
// the object as older than the file it was uploaded from. The conditionals
// (If-Modified-Since and friends) compare the same rounded time, so a
// client that sends back the Last-Modified it got is answered consistently.
func modified(t time.Time) time.Time {
	t = t.UTC()
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

// conditionTime is the time If-Modified-Since and If-Unmodified-Since are
// compared with, by versitygw's strict Before and After: the
// Last-Modified a client was told (whole seconds) less a nanosecond, so
// that a date equal to it means "not modified since", as RFC 9110 has it.
func conditionTime(t time.Time) time.Time { return modified(t).Add(-time.Nanosecond) }

// checksum is the x-amz-checksum-* an upload came with: checked against
// the bytes as they are written (hash, on a goroutine of the engine's),
// or, for a trailing checksum, by the gateway's own reader.
type checksum struct {
	algorithm types.ChecksumAlgorithm
	want      string
	hash      hash.Hash
	trailer   middlewares.ChecksumReader
}

var crc64NVME = crc64.MakeTable(0x9a6c_9329_ac4b_c9b5)

// newHash returns the hash of an S3 checksum algorithm nb computes
// alongside the writes; nil for the rare ones (then utils.NewHashReader
// computes it inline).
func newHash(alg types.ChecksumAlgorithm) hash.Hash {
	switch alg {
	case types.ChecksumAlgorithmCrc32:
		return crc32.NewIEEE()
	case types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case types.ChecksumAlgorithmCrc64nvme:
		return crc64.New(crc64NVME)
	case types.ChecksumAlgorithmSha1:
		return sha1.New()
	case types.ChecksumAlgorithmSha256:
		return sha256.New()
	}
	return nil
}

// requestChecksum finds an upload's checksum: a trailer, else a header.
func requestChecksum(body io.Reader, alg types.ChecksumAlgorithm, values map[types.ChecksumAlgorithm]*string) (*checksum, io.Reader, error) {
	if alg = givenAlgorithm(body, alg, values); alg == "" {
		return nil, body, nil
	}
	if tr, ok := body.(middlewares.ChecksumReader); ok && tr.Algorithm() != "" {
		return &checksum{algorithm: alg, trailer: tr}, body, nil
	}
	c := &checksum{algorithm: alg, want: strings.Clone(str(values[alg]))}
	if c.hash = newHash(alg); c.hash != nil {
		return c, body, nil
	}
	hr, err := utils.NewHashReader(body, c.want, utils.HashType(strings.ToLower(string(alg))))
	if err != nil {
		return nil, nil, s3err.GetAPIError(s3err.ErrInvalidRequest)
	}
	return c, hr, nil
}

// givenAlgorithm is the algorithm of the checksum a request body comes
// with: its trailer's, a header's, or the SDK's announced one.
func givenAlgorithm(body io.Reader, alg types.ChecksumAlgorithm, values map[types.ChecksumAlgorithm]*string) types.ChecksumAlgorithm {
	if tr, ok := body.(middlewares.ChecksumReader); ok && tr.Algorithm() != "" {
		return types.ChecksumAlgorithm(strings.ToUpper(tr.Algorithm()))
	}
	for a, v := range values {
		if v != nil {
			return a
		}
	}
	return alg
}

// sum is the checksum's base64 value once the body is read; an error if
// it differs from the one the client sent.
func (c *checksum) sum(hr io.Reader) (string, error) {
	switch {
	case c.trailer != nil:
		return strings.Clone(c.trailer.Checksum()), nil
	case c.hash != nil:
		got := base64.StdEncoding.EncodeToString(c.hash.Sum(nil))
		if c.want != "" && got != c.want {
			return "", s3err.GetChecksumBadDigestErr(c.algorithm)
		}
		return got, nil
	}
	if h, ok := hr.(*utils.HashReader); ok {
		return h.Sum(), nil
	}
	return c.want, nil
}

func putChecksums(in s3response.PutObjectInput) map[types.ChecksumAlgorithm]*string {
	return map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: in.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: in.ChecksumCRC32C,
		types.ChecksumAlgorithmSha1: in.ChecksumSHA1, types.ChecksumAlgorithmSha256: in.ChecksumSHA256,
		types.ChecksumAlgorithmCrc64nvme: in.ChecksumCRC64NVME, types.ChecksumAlgorithmSha512: in.ChecksumSHA512,
		types.ChecksumAlgorithmMd5: in.ChecksumMD5, types.ChecksumAlgorithmXxhash64: in.ChecksumXXHASH64,
		types.ChecksumAlgorithmXxhash3: in.ChecksumXXHASH3, types.ChecksumAlgorithmXxhash128: in.ChecksumXXHASH128,
	}
}

// checksumFields is a stored checksum in the fields S3 responses carry.
type checksumFields struct {
	CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5, XXHASH64, XXHASH3, XXHASH128 *string
	Type                                                                              types.ChecksumType
}

func fieldsOf(a *placement.Attrs) checksumFields {
	var f checksumFields
	if a == nil || a.Checksum == "" {
		return f
	}
	v := ptr(a.Checksum)
	switch types.ChecksumAlgorithm(a.ChecksumAlgorithm) {
	case types.ChecksumAlgorithmCrc32:
		f.CRC32 = v
	case types.ChecksumAlgorithmCrc32c:
		f.CRC32C = v
	case types.ChecksumAlgorithmCrc64nvme:
		f.CRC64NVME = v
	case types.ChecksumAlgorithmSha1:
		f.SHA1 = v
	case types.ChecksumAlgorithmSha256:
		f.SHA256 = v
	case types.ChecksumAlgorithmSha512:
		f.SHA512 = v
	case types.ChecksumAlgorithmMd5:
		f.MD5 = v
	case types.ChecksumAlgorithmXxhash64:
		f.XXHASH64 = v
	case types.ChecksumAlgorithmXxhash3:
		f.XXHASH3 = v
	case types.ChecksumAlgorithmXxhash128:
		f.XXHASH128 = v
	}
	f.Type = types.ChecksumType(a.ChecksumType)
	return f
}

// upload is what PutObject and UploadPart share: the body written through
// the engine with its MD5 and checksum, checked for length and digest
// before anything becomes visible.
type upload struct {
	md5  hash.Hash
	sum  *checksum
	body io.Reader
	size *int64
	// crc64, when set, is a part's CRC64NVME besides its own checksum
	// (partUpload).
	crc64 hash.Hash
}

// defaultChecksum gives an upload sent without a checksum one of alg: S3
// stores a full-object CRC64NVME with every object uploaded without one.
func (u *upload) defaultChecksum(alg types.ChecksumAlgorithm) {
	if u.sum == nil {
		u.sum = &checksum{algorithm: alg, hash: newHash(alg)}
	}
}

func newUpload(body io.Reader, size *int64, alg types.ChecksumAlgorithm, values map[types.ChecksumAlgorithm]*string) (*upload, error) {
	if body == nil {
		body = strings.NewReader("")
	}
	c, r, err := requestChecksum(body, alg, values)
	if err != nil {
		return nil, err
	}
	return &upload{md5: md5.New(), sum: c, body: r, size: size}, nil
}

func (u *upload) options(attrs *placement.Attrs) placement.PutOptions {
	hashes := []hash.Hash{u.md5}
	if u.sum != nil && u.sum.hash != nil {
		hashes = append(hashes, u.sum.hash)
	}
	if u.crc64 != nil {
		hashes = append(hashes, u.crc64)
	}
	return placement.PutOptions{Attrs: attrs, Hashes: hashes, NoSHA256: true, Finish: u.finish, Length: u.size}
}

// finish completes the attributes once the body is read to its end.
func (u *upload) finish(man *placement.Manifest) error {
	if u.size != nil && man.Size != *u.size {
		return s3err.GetAPIError(s3err.ErrIncompleteBody)
	}
	if man.Attrs == nil {
		man.Attrs = &placement.Attrs{}
	}
	man.Attrs.ETag = hex.EncodeToString(u.md5.Sum(nil))
	if u.sum != nil {
		v, err := u.sum.sum(u.body)
		if err != nil {
			return err
		}
		man.Attrs.ChecksumAlgorithm, man.Attrs.Checksum, man.Attrs.ChecksumType = string(u.sum.algorithm), v, string(types.ChecksumTypeFullObject)
	}
	if u.crc64 != nil {
		man.Attrs.PartCRC64NVME = base64.StdEncoding.EncodeToString(u.crc64.Sum(nil))
	}
	return nil
}

// attrsOf copies an upload's headers (the strings point into request
// buffers).
func attrsOf(contentType, encoding, disposition, language, cacheControl, expires *string, meta map[string]string) *placement.Attrs {
	a := &placement.Attrs{ContentType: clone(contentType), ContentEncoding: clone(encoding), ContentDisposition: clone(disposition),
		ContentLanguage: clone(language), CacheControl: clone(cacheControl), Expires: clone(expires)}
	if len(meta) > 0 {
		a.Meta = make(map[string]string, len(meta))
		for k, v := range meta {
			a.Meta[strings.ToLower(strings.Clone(k))] = strings.Clone(v)
		}
	}
	return a
}

func checkKey(key string) error {
	if key == "" {
		return s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	if len(key) > maxKeyLen {
		return s3err.GetKeyTooLongErr(int64(len(key)), maxKeyLen)
	}
	return nil
}

// noObjectLock answers a request that sets object lock headers: nb's
// buckets never have an object lock configuration, and S3 refuses those
// headers on such a bucket.
func noObjectLock(mode types.ObjectLockMode, until *time.Time, hold types.ObjectLockLegalHoldStatus) error {
	if mode != "" || (until != nil && !until.IsZero()) || hold != "" {
		return s3err.GetAPIError(s3err.ErrMissingObjectLockConfigurationNoSpaces)
	}
	return nil
}

// PutObject implements backend.Backend: the object goes through the
// bucket's placement policy and becomes visible only once its body was
// read to a clean end and every digest matched.
func (b *Backend) PutObject(ctx context.Context, in s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	b.Busy.enter()
	defer b.Busy.leave()
	bucket, key := clone(in.Bucket), clone(in.Key)
	rec, err := b.keyIn(bucket, key)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	if err := noObjectLock(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus); err != nil {
		return s3response.PutObjectOutput{}, err
	}
	if in.IfNoneMatch != nil || in.IfMatch != nil {
		// Fail fast, before the body is stored; checked again at the commit.
		cur, err := b.Engine.Stat(bucket, key)
		if err := putPrecondition(in.IfMatch, in.IfNoneMatch)(curOrNil(cur, err)); err != nil {
			return s3response.PutObjectOutput{}, err
		}
	}
	tags, err := tagsFrom(in.Tagging)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	size := in.ContentLength
	if _, ok := in.Body.(utils.MpFileReader); ok {
		// A browser POST: the file ends at its form boundary, and the length
		// given is what the request had left (S3 ignores what follows).
		size = nil
	}
	up, err := newUpload(in.Body, size, in.ChecksumAlgorithm, putChecksums(in))
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	up.defaultChecksum(types.ChecksumAlgorithmCrc64nvme)
	attrs := attrsOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires, in.Metadata)
	attrs.Tags, attrs.WebsiteRedirect = tags, clone(in.WebsiteRedirectLocation)
	opt := up.options(attrs)
	opt.Precondition = putPrecondition(in.IfMatch, in.IfNoneMatch)
	eng, err := b.data(rec)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	man, err := eng.PutWith(b.ctx(), bucket, key, rec.Policy, up.body, opt)
	if err != nil {
		return s3response.PutObjectOutput{}, s3Error(err)
	}
	f := fieldsOf(man.Attrs)
	return s3response.PutObjectOutput{ETag: quote(man.Attrs.ETag), Size: ptr(man.Size), ChecksumType: f.Type,
		ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME, ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256,
		ChecksumSHA512: f.SHA512, ChecksumMD5: f.MD5, ChecksumXXHASH64: f.XXHASH64, ChecksumXXHASH3: f.XXHASH3, ChecksumXXHASH128: f.XXHASH128}, nil
}

func curOrNil(m *placement.Manifest, err error) *placement.Manifest {
	if err != nil {
		return nil
	}
	return m
}

// putPrecondition is S3's conditional write (If-Match, If-None-Match: *)
// on the current version.
func putPrecondition(ifMatch, ifNoneMatch *string) func(*placement.Manifest) error {
	if ifMatch == nil && ifNoneMatch == nil {
		return nil
	}
	im, inm := cloneOpt(ifMatch), cloneOpt(ifNoneMatch)
	return func(cur *placement.Manifest) error {
		etag := ""
		if cur != nil {
			etag = etagOf(cur)
		}
		return backend.EvaluateObjectPutPreconditions(etag, im, inm, cur != nil)
	}
}

func cloneOpt(p *string) *string {
	if p == nil {
		return nil
	}
	return ptr(strings.Trim(strings.Clone(*p), `"`))
}

// etagOf is an object's ETag (objects nb verify wrote have none: their
// SHA-256 stands in, so that conditionals still tell versions apart).
func etagOf(m *placement.Manifest) string {
	if m.Attrs != nil && m.Attrs.ETag != "" {
		return m.Attrs.ETag
	}
	if m.SHA256 != "" {
		return m.SHA256[:32]
	}
	return m.ObjectID
}

// object returns an object's current manifest and its data path, or
// S3's NoSuchBucket or NoSuchKey.
func (b *Backend) object(bucket, key string) (*placement.Manifest, *placement.Engine, error) {
	rec, err := b.keyIn(bucket, key)
	if err != nil {
		return nil, nil, err
	}
	man, err := b.Engine.Stat(bucket, key)
	if err != nil {
		return nil, nil, s3Error(err)
	}
	eng, err := b.data(rec)
	return man, eng, err
}

// span is the bytes a GET or HEAD asks for: a Range, a part, or all.
type span struct {
	off, n  int64
	ranged  bool
	partsOf *int32
	part    int // the part of a multipart object asked for (1-based), else 0
}

// checksum is what x-amz-checksum-mode: ENABLED answers for the span: the
// object's checksum for all of it, the part's for a part of an object with
// a COMPOSITE checksum (whose parts' checksums are what composes it),
// none for a range or a part of any other object.
func (s span) checksum(man *placement.Manifest) (checksumFields, bool) {
	if !s.ranged {
		return fieldsOf(man.Attrs), true
	}
	if s.part > 0 && man.Attrs != nil && man.Attrs.ChecksumType == string(types.ChecksumTypeComposite) && man.Parts[s.part-1].Checksum != "" {
		return fieldsFor(man.Attrs.ChecksumAlgorithm, man.Parts[s.part-1].Checksum, man.Attrs.ChecksumType), true
	}
	return checksumFields{}, false
}

func spanOf(man *placement.Manifest, rng string, part *int32) (span, error) {
	if part != nil {
		n := *part
		if len(man.Parts) == 0 {
			if n != 1 {
				return span{}, s3err.GetInvalidPartNumberRangeErr(1, n)
			}
			// Part 1 of an object not uploaded in parts is all of it, and no
			// parts count is given (S3 gives one for multipart objects only).
			return span{0, man.Size, man.Size > 0, nil, 0}, nil
		}
		if n < 1 || int(n) > len(man.Parts) {
			return span{}, s3err.GetInvalidPartNumberRangeErr(int32(len(man.Parts)), n)
		}
		var off int64
		for _, p := range man.Parts[:n-1] {
			off += p.Size
		}
		return span{off, man.Parts[n-1].Size, true, ptr(int32(len(man.Parts))), int(n)}, nil
	}
	off, n, ranged, err := backend.ParseObjectRange(man.Size, rng)
	return span{off, n, ranged, nil, 0}, err
}

func (s span) contentRange(size int64) *string {
	if !s.ranged || s.n == 0 {
		return nil
	}
	return ptr(fmt.Sprintf("bytes %d-%d/%d", s.off, s.off+s.n-1, size))
}

func readPreconditions(ifMatch, ifNoneMatch *string, ifModified, ifUnmodified *time.Time) backend.PreConditions {
	return backend.PreConditions{IfMatch: cloneOpt(ifMatch), IfNoneMatch: cloneOpt(ifNoneMatch), IfModSince: ifModified, IfUnmodeSince: ifUnmodified}
}

// HeadObject implements backend.Backend.
func (b *Backend) HeadObject(_ context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	if err := version(in.VersionId); err != nil {
		return nil, err
	}
	man, _, err := b.object(str(in.Bucket), str(in.Key))
	if err != nil {
		return nil, err
	}
	if err := backend.EvaluatePreconditions(quote(etagOf(man)), conditionTime(man.Created), readPreconditions(in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)); err != nil {
		return nil, err
	}
	sp, err := spanOf(man, str(in.Range), in.PartNumber)
	if err != nil {
		return nil, err
	}
	a := attrsOr(man)
	out := &s3.HeadObjectOutput{
		AcceptRanges: ptr("bytes"), ContentLength: ptr(sp.n), ContentRange: sp.contentRange(man.Size), PartsCount: sp.partsOf,
		ETag: ptr(quote(etagOf(man))), LastModified: ptr(modified(man.Created)), StorageClass: types.StorageClassStandard,
		ContentType: optional(a.ContentType), ContentEncoding: optional(a.ContentEncoding), ContentDisposition: optional(a.ContentDisposition),
		ContentLanguage: optional(a.ContentLanguage), CacheControl: optional(a.CacheControl), ExpiresString: optional(a.Expires), Metadata: a.Meta,
		TagCount: tagCount(man), WebsiteRedirectLocation: optional(a.WebsiteRedirect),
	}
	if f, ok := sp.checksum(man); ok && in.ChecksumMode == types.ChecksumModeEnabled {
		out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
		out.ChecksumSHA512, out.ChecksumMD5, out.ChecksumXXHASH64, out.ChecksumXXHASH3, out.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
		out.ChecksumType = f.Type
	}
	return out, nil
}

func attrsOr(man *placement.Manifest) placement.Attrs {
	if man.Attrs == nil {
		return placement.Attrs{ContentType: "binary/octet-stream"}
	}
	a := *man.Attrs
	if a.ContentType == "" {
		a.ContentType = "binary/octet-stream"
	}
	return a
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// GetObject implements backend.Backend. The body streams from the data
// path; a read that cannot be served before the first byte is S3's 503,
// one that fails later breaks the connection: a client never gets wrong
// bytes.
func (b *Backend) GetObject(_ context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	if err := version(in.VersionId); err != nil {
		return nil, err
	}
	man, eng, err := b.object(str(in.Bucket), str(in.Key))
	if err != nil {
		return nil, err
	}
	if err := backend.EvaluatePreconditions(quote(etagOf(man)), conditionTime(man.Created), readPreconditions(in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)); err != nil {
		return nil, err
	}
	sp, err := spanOf(man, str(in.Range), in.PartNumber)
	if err != nil {
		return nil, err
	}
	body, err := b.stream(eng, man, sp.off, sp.n)
	if err != nil {
		return nil, s3Error(err)
	}
	a := attrsOr(man)
	out := &s3.GetObjectOutput{
		Body: body, AcceptRanges: ptr("bytes"), ContentLength: ptr(sp.n), ContentRange: sp.contentRange(man.Size), PartsCount: sp.partsOf,
		ETag: ptr(quote(etagOf(man))), LastModified: ptr(modified(man.Created)), StorageClass: types.StorageClassStandard,
		ContentType: optional(a.ContentType), ContentEncoding: optional(a.ContentEncoding), ContentDisposition: optional(a.ContentDisposition),
		ContentLanguage: optional(a.ContentLanguage), CacheControl: optional(a.CacheControl), ExpiresString: optional(a.Expires), Metadata: a.Meta,
		TagCount: tagCount(man), WebsiteRedirectLocation: optional(a.WebsiteRedirect),
	}
	if f, ok := sp.checksum(man); ok && in.ChecksumMode == types.ChecksumModeEnabled {
		out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
		out.ChecksumSHA512, out.ChecksumMD5, out.ChecksumXXHASH64, out.ChecksumXXHASH3, out.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
		out.ChecksumType = f.Type
	}
	return out, nil
}

// stream opens n bytes of an object from off for a response body. It
// returns once the first chunk is read and verified (or the read failed
// before), so that an unreadable object is an error response, not a
// broken body.
func (b *Backend) stream(eng *placement.Engine, man *placement.Manifest, off, n int64) (io.ReadCloser, error) {
	b.Busy.enter()
	rr, err := eng.OpenRange(b.ctx(), man, off, n)
	if err != nil {
		b.Busy.leave()
		return nil, err
	}
	return &objectBody{b: b, rr: rr, man: man}, nil
}

// objectBody is a GET's body. The HTTP server copies it with WriteTo,
// chunk by chunk straight from the data path; Read (any other copier)
// goes through a pipe fed by WriteTo on a goroutine of its own.
type objectBody struct {
	b      *Backend
	rr     *placement.RangeReader
	man    *placement.Manifest
	once   sync.Once
	pr     *io.PipeReader
	done   chan struct{} // closed when the pipe's writer is done
	closed sync.Once
}

// WriteTo implements io.WriterTo.
func (o *objectBody) WriteTo(w io.Writer) (int64, error) {
	n, err := o.rr.WriteTo(w)
	if err != nil && n > 0 {
		o.b.logf("GET %s/%s: the read failed after %d bytes, the connection is broken off: %v", o.man.Bucket, o.man.Key, n, err)
	}
	return n, err
}

func (o *objectBody) Read(p []byte) (int, error) {
	o.once.Do(func() {
		pr, pw := io.Pipe()
		o.pr, o.done = pr, make(chan struct{})
		go func() {
			defer close(o.done)
			_, err := o.WriteTo(pw)
			pw.CloseWithError(err)
		}()
	})
	return o.pr.Read(p)
}

func (o *objectBody) Close() error {
	o.once.Do(func() {}) // no pipe after Close
	if o.pr != nil {
		o.pr.Close()
		<-o.done
	}
	o.rr.Close()
	o.closed.Do(o.b.Busy.leave)
	return nil
}

// version checks a request's versionId: buckets are unversioned, so an
// object's one version is "null" (what ListObjectVersions lists) and any
// other is S3's NoSuchVersion.
func version(p *string) error {
	if v := str(p); v != "" && v != nullVersion {
		return s3err.GetAPIError(s3err.ErrNoSuchVersion)
	}
	return nil
}

// GetObjectAttributes implements backend.Backend: the ETag, size, storage
// class, the checksum given at upload, and a multipart object's parts
// (paged by part-number-marker and max-parts). The gateway keeps the
// attributes asked for.
func (b *Backend) GetObjectAttributes(_ context.Context, in *s3.GetObjectAttributesInput) (s3response.GetObjectAttributesResponse, error) {
	if err := version(in.VersionId); err != nil {
		return s3response.GetObjectAttributesResponse{}, err
	}
	man, _, err := b.object(str(in.Bucket), str(in.Key))
	if err != nil {
		return s3response.GetObjectAttributesResponse{}, err
	}
	out := s3response.GetObjectAttributesResponse{ETag: ptr(etagOf(man)), ObjectSize: ptr(man.Size), StorageClass: types.StorageClassStandard,
		LastModified: ptr(modified(man.Created))}
	if f := fieldsOf(man.Attrs); f != (checksumFields{}) {
		out.Checksum = &types.Checksum{ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME,
			ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256, ChecksumSHA512: f.SHA512, ChecksumMD5: f.MD5,
			ChecksumXXHASH64: f.XXHASH64, ChecksumXXHASH3: f.XXHASH3, ChecksumXXHASH128: f.XXHASH128, ChecksumType: f.Type}
	}
	if len(man.Parts) > 0 {
		marker := 0
		if m := str(in.PartNumberMarker); m != "" {
			if marker, err = strconv.Atoi(m); err != nil || marker < 0 {
				return s3response.GetObjectAttributesResponse{}, s3err.APIError{Code: "InvalidArgument", Description: "Invalid part number marker", HTTPStatusCode: 400}
			}
		}
		max := maxKeys(in.MaxParts)
		parts := &s3response.ObjectParts{PartNumberMarker: marker, MaxParts: max}
		for _, p := range man.Parts {
			if p.Number <= marker {
				continue
			}
			if len(parts.Parts) == max {
				parts.IsTruncated = true
				break
			}
			op := types.ObjectPart{PartNumber: ptr(int32(p.Number)), Size: ptr(p.Size)}
			if p.Checksum != "" {
				f := fieldsFor(man.Attrs.ChecksumAlgorithm, p.Checksum, "")
				op.ChecksumCRC32, op.ChecksumCRC32C, op.ChecksumCRC64NVME, op.ChecksumSHA1, op.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
				op.ChecksumSHA512, op.ChecksumMD5, op.ChecksumXXHASH64, op.ChecksumXXHASH3, op.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
			}
			parts.Parts = append(parts.Parts, op)
			parts.NextPartNumberMarker = p.Number
		}
		out.ObjectParts = parts
	}
	return out, nil
}

// DeleteObject implements backend.Backend: deleting a missing key
// succeeds, as on S3.
func (b *Backend) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	bucket, key := clone(in.Bucket), clone(in.Key)
	rec, err := b.bucket(bucket)
	if err != nil {
		return nil, err
	}
	eng, err := b.data(rec)
	if err != nil {
		return nil, err
	}
	var cond func(*placement.Manifest) error
	if in.IfMatch != nil || in.IfMatchLastModifiedTime != nil || in.IfMatchSize != nil {
		// S3's conditional delete: a missing key is still no error.
		pre := backend.ObjectDeletePreconditions{IfMatch: cloneOpt(in.IfMatch), IfMatchLastModTime: in.IfMatchLastModifiedTime, IfMatchSize: in.IfMatchSize}
		cond = func(cur *placement.Manifest) error {
			return backend.EvaluateObjectDeletePreconditions(etagOf(cur), modified(cur.Created), cur.Size, pre)
		}
	}
	if err := eng.DeleteIf(b.ctx(), bucket, key, cond); err != nil && !errors.Is(err, placement.ErrNoObject) {
		return nil, s3Error(err)
	}
	return &s3.DeleteObjectOutput{}, nil
}

// DeleteObjects implements backend.Backend, with a result per key.
func (b *Backend) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (s3response.DeleteResult, error) {
	bucket := clone(in.Bucket)
	rec, err := b.bucket(bucket)
	if err != nil {
		return s3response.DeleteResult{}, err
	}
	eng, err := b.data(rec)
	if err != nil {
		return s3response.DeleteResult{}, err
	}
	var out s3response.DeleteResult
	if in.Delete == nil {
		return out, nil
	}
	for _, o := range in.Delete.Objects {
		key := clone(o.Key)
		err := eng.Delete(b.ctx(), bucket, key)
		if err == nil || errors.Is(err, placement.ErrNoObject) {
			out.Deleted = append(out.Deleted, types.DeletedObject{Key: ptr(key), VersionId: cloneOpt(o.VersionId)})
			continue
		}
		code, msg := "InternalError", err.Error()
		var se s3err.S3Error
		if errors.As(s3Error(err), &se) {
			code, msg = se.BaseError().Code, se.BaseError().Description
		}
		out.Error = append(out.Error, types.Error{Key: ptr(key), Code: ptr(code), Message: ptr(msg)})
	}
	return out, nil
}

// CopyObject implements backend.Backend: the bytes are read from the
// source and written under the destination's policy (which may differ);
// metadata is copied or, with REPLACE, taken from the request.
func (b *Backend) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	b.Busy.enter()
	defer b.Busy.leave()
	src, srcEng, err := b.copySource(in.CopySource, in.ExpectedSourceBucketOwner)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	srcBucket, srcKey := src.Bucket, src.Key
	if err := copyPreconditions(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	bucket, key := clone(in.Bucket), clone(in.Key)
	rec, err := b.keyIn(bucket, key)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	if err := noObjectLock(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus); err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	tags, err := copyTags(src, in)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	var attrs *placement.Attrs
	if in.MetadataDirective == types.MetadataDirectiveReplace {
		attrs = attrsOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires, in.Metadata)
	} else {
		if srcBucket == bucket && srcKey == key && in.ChecksumAlgorithm == "" {
			return s3response.CopyObjectOutput{}, s3err.GetAPIError(s3err.ErrInvalidCopyDest)
		}
		a := attrsOr(src)
		a.ETag, a.Checksum, a.ChecksumAlgorithm, a.ChecksumType = "", "", "", ""
		if src.Attrs == nil {
			a.ContentType = ""
		}
		attrs = &a
	}
	// The redirect location is never copied: S3 takes it from the request
	// under either directive.
	attrs.Tags, attrs.WebsiteRedirect = tags, clone(in.WebsiteRedirectLocation)
	eng, err := b.data(rec)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	body, err := b.stream(srcEng, src, 0, src.Size)
	if err != nil {
		return s3response.CopyObjectOutput{}, s3Error(err)
	}
	defer body.Close()
	// The copy's checksum: of the algorithm asked for, else of the
	// source's, else S3's default; computed as the bytes are written.
	alg := in.ChecksumAlgorithm
	if alg == "" && src.Attrs != nil {
		alg = types.ChecksumAlgorithm(src.Attrs.ChecksumAlgorithm)
	}
	if alg == "" {
		alg = types.ChecksumAlgorithmCrc64nvme
	}
	up, err := newUpload(body, ptr(src.Size), alg, nil)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	man, err := eng.PutWith(b.ctx(), bucket, key, rec.Policy, up.body, up.options(attrs))
	if err != nil {
		return s3response.CopyObjectOutput{}, s3Error(err)
	}
	f := fieldsOf(man.Attrs)
	return s3response.CopyObjectOutput{CopyObjectResult: &s3response.CopyObjectResult{ETag: ptr(quote(man.Attrs.ETag)), LastModified: ptr(modified(man.Created)),
		ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME, ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256,
		ChecksumSHA512: f.SHA512, ChecksumMD5: f.MD5, ChecksumXXHASH64: f.XXHASH64, ChecksumXXHASH3: f.XXHASH3, ChecksumXXHASH128: f.XXHASH128,
		ChecksumType: f.Type}}, nil
}

// copySource is the object an x-amz-copy-source header names (the
// gateway has checked READ on it already), and its data path; with
// expectedOwner (x-amz-source-expected-bucket-owner), AccessDenied unless
// that is the source bucket's owner.
func (b *Backend) copySource(header, expectedOwner *string) (*placement.Manifest, *placement.Engine, error) {
	bucket, key, version, err := backend.ParseCopySource(clone(header))
	if err != nil {
		return nil, nil, err
	}
	if version != "" && version != "null" {
		return nil, nil, s3err.GetAPIError(s3err.ErrNoSuchVersion)
	}
	if want := str(expectedOwner); want != "" {
		rec, err := b.bucket(bucket)
		if err != nil {
			return nil, nil, err
		}
		if b.owner(rec) != want {
			return nil, nil, s3err.GetAPIError(s3err.ErrAccessDenied)
		}
	}
	return b.object(bucket, key)
}

// copyPreconditions are CopySourceIf-*, as S3's CopyObject documents
// them (RFC 9110's order): a true If-Match makes If-Unmodified-Since moot,
// an If-None-Match makes If-Modified-Since moot; any that fails is 412.
func copyPreconditions(src *placement.Manifest, ifMatch, ifNoneMatch *string, ifModified, ifUnmodified *time.Time) error {
	etag, mod := etagOf(src), modified(src.Created)
	failed := func() error { return s3err.GetAPIError(s3err.ErrPreconditionFailed) }
	if m := cloneOpt(ifMatch); m != nil {
		if *m != etag && *m != "*" {
			return failed()
		}
	} else if t := ifUnmodified; t != nil && mod.After(*t) {
		return failed()
	}
	if m := cloneOpt(ifNoneMatch); m != nil {
		if *m == etag || *m == "*" {
			return failed()
		}
	} else if t := ifModified; t != nil && !mod.After(*t) {
		return failed()
	}
	return nil
}
