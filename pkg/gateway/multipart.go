package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/placement"
)

// CreateMultipartUpload implements backend.Backend: the upload's parts
// follow the bucket's policy as it is now.
func (b *Backend) CreateMultipartUpload(_ context.Context, in s3response.CreateMultipartUploadInput) (s3response.InitiateMultipartUploadResult, error) {
	bucket, key := clone(in.Bucket), clone(in.Key)
	rec, err := b.keyIn(bucket, key)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	if err := noObjectLock(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus); err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	tags, err := tagsFrom(in.Tagging)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	attrs := attrsOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires, in.Metadata)
	attrs.Tags, attrs.WebsiteRedirect = tags, clone(in.WebsiteRedirectLocation)
	// The gateway has checked the pair and defaulted the type.
	attrs.ChecksumAlgorithm, attrs.ChecksumType = string(in.ChecksumAlgorithm), string(in.ChecksumType)
	u, err := b.Engine.CreateUpload(bucket, key, rec.Policy, attrs)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, s3Error(err)
	}
	return s3response.InitiateMultipartUploadResult{Bucket: bucket, Key: key, UploadId: u.ID}, nil
}

func partChecksums(in *s3.UploadPartInput) map[types.ChecksumAlgorithm]*string {
	return byAlgorithm(checksumFields{CRC32: in.ChecksumCRC32, CRC32C: in.ChecksumCRC32C, CRC64NVME: in.ChecksumCRC64NVME,
		SHA1: in.ChecksumSHA1, SHA256: in.ChecksumSHA256, SHA512: in.ChecksumSHA512, MD5: in.ChecksumMD5,
		XXHASH64: in.ChecksumXXHASH64, XXHASH3: in.ChecksumXXHASH3, XXHASH128: in.ChecksumXXHASH128})
}

// UploadPart implements backend.Backend.
func (b *Backend) UploadPart(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	b.Busy.enter()
	defer b.Busy.leave()
	bucket, key, id := clone(in.Bucket), clone(in.Key), clone(in.UploadId)
	rec, err := b.bucket(bucket)
	if err != nil {
		return nil, err
	}
	eng, err := b.data(rec)
	if err != nil {
		return nil, err
	}
	if in.PartNumber == nil || *in.PartNumber < 1 || *in.PartNumber > placement.MaxParts {
		return nil, badPartNumber(in.PartNumber)
	}
	u, err := b.Engine.Upload(bucket, key, id)
	if err != nil {
		return nil, s3Error(err)
	}
	body := in.Body
	if body == nil {
		body = strings.NewReader("")
	}
	up, err := partUpload(u, body, in.ContentLength, in.ChecksumAlgorithm, partChecksums(in), false)
	if err != nil {
		return nil, err
	}
	man, err := eng.PutPart(b.ctx(), bucket, key, id, int(*in.PartNumber), up.body, up.options(nil))
	if err != nil {
		return nil, s3Error(err)
	}
	out := &s3.UploadPartOutput{ETag: ptr(quote(man.Attrs.ETag))}
	fieldsOf(man.Attrs).uploadPart(out)
	return out, nil
}

// UploadPartCopy implements backend.Backend: a part read from another
// object (or a range of it).
func (b *Backend) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput) (s3response.CopyPartResult, error) {
	b.Busy.enter()
	defer b.Busy.leave()
	bucket, key, id := clone(in.Bucket), clone(in.Key), clone(in.UploadId)
	rec, err := b.bucket(bucket)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	eng, err := b.data(rec)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	if in.PartNumber == nil || *in.PartNumber < 1 || *in.PartNumber > placement.MaxParts {
		return s3response.CopyPartResult{}, badPartNumber(in.PartNumber)
	}
	src, srcEng, err := b.copySource(in.CopySource, in.ExpectedSourceBucketOwner)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	if err := copyPreconditions(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return s3response.CopyPartResult{}, err
	}
	off, n, err := backend.ParseCopySourceRange(src.Size, clone(in.CopySourceRange))
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	body, err := b.stream(srcEng, src, off, n)
	if err != nil {
		return s3response.CopyPartResult{}, s3Error(err)
	}
	defer body.Close()
	u, err := b.Engine.Upload(bucket, key, id)
	if err != nil {
		return s3response.CopyPartResult{}, s3Error(err)
	}
	up, err := partUpload(u, body, ptr(n), "", nil, true)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	man, err := eng.PutPart(b.ctx(), bucket, key, id, int(*in.PartNumber), up.body, up.options(nil))
	if err != nil {
		return s3response.CopyPartResult{}, s3Error(err)
	}
	out := s3response.CopyPartResult{ETag: ptr(quote(man.Attrs.ETag)), LastModified: modified(man.Created)}
	fieldsOf(man.Attrs).copyPart(&out)
	return out, nil
}

// CompleteMultipartUpload implements backend.Backend: the object is
// composed of the listed parts' blocks; its ETag is S3's
// md5-of-part-md5s-N.
func (b *Backend) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput) (s3response.CompleteMultipartUploadResult, string, error) {
	bucket, key, id := clone(in.Bucket), clone(in.Key), clone(in.UploadId)
	rec, err := b.bucket(bucket)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	eng, err := b.data(rec)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return s3response.CompleteMultipartUploadResult{}, "", s3err.GetAPIError(s3err.ErrMalformedXML)
	}
	for _, p := range in.MultipartUpload.Parts {
		if p.PartNumber == nil || p.ETag == nil {
			return s3response.CompleteMultipartUploadResult{}, "", s3err.GetAPIError(s3err.ErrMalformedXML)
		}
		if *p.PartNumber < 1 {
			return s3response.CompleteMultipartUploadResult{}, "", s3err.GetInvalidArgumentErr(s3err.InvalidArgCompleteMpPartNumber, fmt.Sprint(*p.PartNumber))
		}
	}
	etag, err := backend.ComputeMultipartETagFromPartETags(in.MultipartUpload.Parts)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	// A completion retried after it succeeded, or racing another of the
	// same upload that won, answers the object made, as S3 does.
	gone := func(err error) (s3response.CompleteMultipartUploadResult, string, error) {
		if errors.Is(err, placement.ErrNoUpload) {
			if cur, serr := b.Engine.Stat(bucket, key); serr == nil && cur.Upload == id {
				return completed(cur), "", nil
			}
		}
		return s3response.CompleteMultipartUploadResult{}, "", s3Error(err)
	}
	u, err := b.Engine.Upload(bucket, key, id)
	if err != nil {
		return gone(err)
	}
	parts, err := b.Engine.Parts(bucket, key, id)
	if err != nil {
		return gone(err)
	}
	alg, sum, typ, each, err := finalChecksum(u, in, parts)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	list := make([]placement.CompletedPart, 0, len(in.MultipartUpload.Parts))
	for _, p := range in.MultipartUpload.Parts {
		list = append(list, placement.CompletedPart{Number: int(*p.PartNumber), ETag: clone(p.ETag)})
	}
	pre := putPrecondition(in.IfMatch, in.IfNoneMatch)
	man, err := eng.CompleteUpload(b.ctx(), bucket, key, id, list, func(m *placement.Manifest) error {
		if in.MpuObjectSize != nil && m.Size != *in.MpuObjectSize {
			return s3err.GetIncorrectMpObjectSizeErr(m.Size, *in.MpuObjectSize)
		}
		if pre != nil {
			cur, err := b.Engine.Stat(bucket, key)
			if err := pre(curOrNil(cur, err)); err != nil {
				return err
			}
		}
		a := placement.Attrs{}
		if m.Attrs != nil {
			a = *m.Attrs
		}
		a.ETag = strings.Trim(etag, `"`)
		// The parts are the ones checked (their ETags are their MD5s).
		a.ChecksumAlgorithm, a.Checksum, a.ChecksumType = alg, sum, typ
		if sum == "" {
			a.ChecksumAlgorithm, a.ChecksumType = "", ""
		}
		for i := range m.Parts {
			if i < len(each) {
				m.Parts[i].Checksum = each[i]
			}
		}
		m.Attrs = &a
		return nil
	})
	if err != nil {
		return gone(err)
	}
	return completed(man), "", nil
}

// completed is the answer to a completion that made man.
func completed(man *placement.Manifest) s3response.CompleteMultipartUploadResult {
	out := s3response.CompleteMultipartUploadResult{Bucket: ptr(man.Bucket), Key: ptr(man.Key), ETag: ptr(quote(etagOf(man))),
		Location: ptr(fmt.Sprintf("/%s/%s", man.Bucket, man.Key))}
	fieldsOf(man.Attrs).complete(&out)
	return out
}

// AbortMultipartUpload implements backend.Backend.
func (b *Backend) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput) error {
	bucket := clone(in.Bucket)
	rec, err := b.bucket(bucket)
	if err != nil {
		return err
	}
	eng, err := b.data(rec)
	if err != nil {
		return err
	}
	key, id := clone(in.Key), clone(in.UploadId)
	if t := in.IfMatchInitiatedTime; t != nil {
		// x-amz-if-match-initiated-time: the time ListMultipartUploads gave.
		u, err := b.Engine.Upload(bucket, key, id)
		if err != nil {
			return s3Error(err)
		}
		if modified(u.Initiated).Unix() != t.Unix() {
			return s3err.GetPreconditionFailedErr(s3err.ConditionIfMatchInitiatedTime)
		}
	}
	return s3Error(eng.AbortUpload(b.ctx(), bucket, key, id))
}

// ListParts implements backend.Backend.
func (b *Backend) ListParts(_ context.Context, in *s3.ListPartsInput) (s3response.ListPartsResult, error) {
	bucket, key, id := clone(in.Bucket), clone(in.Key), clone(in.UploadId)
	rec, err := b.bucket(bucket)
	if err != nil {
		return s3response.ListPartsResult{}, err
	}
	parts, err := b.Engine.Parts(bucket, key, id)
	if err != nil {
		return s3response.ListPartsResult{}, s3Error(err)
	}
	marker := 0
	if m := clone(in.PartNumberMarker); m != "" {
		if _, err := fmt.Sscanf(m, "%d", &marker); err != nil || marker < 0 {
			return s3response.ListPartsResult{}, s3err.GetInvalidArgumentErr(s3err.InvalidArgPartNumber, m)
		}
	}
	max := defaultMaxKeys
	if in.MaxParts != nil && *in.MaxParts >= 0 {
		max = int(min(*in.MaxParts, defaultMaxKeys))
	}
	owner := s3response.Owner{ID: b.owner(rec)}
	u, err := b.Engine.Upload(bucket, key, id)
	if err != nil {
		return s3response.ListPartsResult{}, s3Error(err)
	}
	upAlg, upType := uploadChecksum(u)
	if upAlg == "" {
		upAlg, upType = "null", "null" // what S3 answers for an upload without one
	}
	out := s3response.ListPartsResult{Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker, MaxParts: max,
		StorageClass: types.StorageClassStandard, Owner: owner, Initiator: s3response.Initiator(owner),
		ChecksumAlgorithm: upAlg, ChecksumType: upType}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == max {
			out.IsTruncated = true
			break
		}
		part := s3response.Part{PartNumber: p.Number, ETag: quote(p.ETag), Size: p.Size, LastModified: modified(p.Modified)}
		fieldsOf(p.Attrs).part(&part)
		out.Parts = append(out.Parts, part)
		out.NextPartNumberMarker = p.Number
	}
	return out, nil
}

// ListMultipartUploads implements backend.Backend.
func (b *Backend) ListMultipartUploads(_ context.Context, in *s3.ListMultipartUploadsInput) (s3response.ListMultipartUploadsResult, error) {
	bucket, prefix, delim, keyMarker, idMarker := clone(in.Bucket), clone(in.Prefix), clone(in.Delimiter), clone(in.KeyMarker), clone(in.UploadIdMarker)
	rec, err := b.bucket(bucket)
	if err != nil {
		return s3response.ListMultipartUploadsResult{}, err
	}
	all, err := b.Engine.Uploads(bucket)
	if err != nil {
		return s3response.ListMultipartUploadsResult{}, err
	}
	owner := s3response.Owner{ID: b.owner(rec)}
	var uploads []s3response.Upload
	for _, u := range all {
		if !strings.HasPrefix(u.Key, prefix) || (keyMarker != "" && idMarker == "" && u.Key <= keyMarker) || (idMarker != "" && u.Key < keyMarker) {
			continue
		}
		alg, typ := uploadChecksum(u)
		uploads = append(uploads, s3response.Upload{Key: u.Key, UploadID: u.ID, Initiated: modified(u.Initiated), Owner: owner,
			Initiator: s3response.Initiator(owner), StorageClass: types.StorageClassStandard, ChecksumAlgorithm: alg, ChecksumType: typ})
	}
	max := defaultMaxKeys
	if in.MaxUploads != nil && *in.MaxUploads >= 0 {
		max = int(min(*in.MaxUploads, defaultMaxKeys))
	}
	page, err := backend.ListMultipartUploads(uploads, prefix, delim, keyMarker, idMarker, max)
	if err != nil {
		return s3response.ListMultipartUploadsResult{}, err
	}
	return s3response.ListMultipartUploadsResult{Bucket: bucket, Prefix: prefix, Delimiter: delim, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		MaxUploads: max, IsTruncated: page.IsTruncated, NextKeyMarker: page.NextKeyMarker, NextUploadIDMarker: page.NextUploadIDMarker,
		Uploads: page.Uploads, CommonPrefixes: page.CommonPrefixes}, nil
}

func badPartNumber(n *int32) error {
	v := ""
	if n != nil {
		v = fmt.Sprint(*n)
	}
	return s3err.GetInvalidArgumentErr(s3err.InvalidArgPartNumber, v)
}
