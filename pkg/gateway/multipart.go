package gateway

import (
	"context"
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
	tags, err := tagsFrom(in.Tagging)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	attrs := attrsOf(in.ContentType, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires, in.Metadata)
	attrs.Tags, attrs.WebsiteRedirect = tags, clone(in.WebsiteRedirectLocation)
	u, err := b.Engine.CreateUpload(bucket, key, rec.Policy, attrs)
	if err != nil {
		return s3response.InitiateMultipartUploadResult{}, s3Error(err)
	}
	return s3response.InitiateMultipartUploadResult{Bucket: bucket, Key: key, UploadId: u.ID}, nil
}

func partChecksums(in *s3.UploadPartInput) map[types.ChecksumAlgorithm]*string {
	return map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: in.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: in.ChecksumCRC32C,
		types.ChecksumAlgorithmSha1: in.ChecksumSHA1, types.ChecksumAlgorithmSha256: in.ChecksumSHA256,
		types.ChecksumAlgorithmCrc64nvme: in.ChecksumCRC64NVME,
	}
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
	up, err := newUpload(in.Body, in.ContentLength, in.ChecksumAlgorithm, partChecksums(in))
	if err != nil {
		return nil, err
	}
	man, err := eng.PutPart(b.ctx(), bucket, key, id, int(*in.PartNumber), up.body, up.options(nil))
	if err != nil {
		return nil, s3Error(err)
	}
	f := fieldsOf(man.Attrs)
	return &s3.UploadPartOutput{ETag: ptr(quote(man.Attrs.ETag)), ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C,
		ChecksumCRC64NVME: f.CRC64NVME, ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256}, nil
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
	src, srcEng, err := b.copySource(in.CopySource)
	if err != nil {
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
	up, err := newUpload(body, ptr(n), "", nil)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	man, err := eng.PutPart(b.ctx(), bucket, key, id, int(*in.PartNumber), up.body, up.options(nil))
	if err != nil {
		return s3response.CopyPartResult{}, s3Error(err)
	}
	return s3response.CopyPartResult{ETag: ptr(quote(man.Attrs.ETag)), LastModified: modified(man.Created)}, nil
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
	etag, err := backend.ComputeMultipartETagFromPartETags(in.MultipartUpload.Parts)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	list := make([]placement.CompletedPart, 0, len(in.MultipartUpload.Parts))
	for _, p := range in.MultipartUpload.Parts {
		list = append(list, placement.CompletedPart{Number: int(*p.PartNumber), ETag: clone(p.ETag)})
	}
	pre := putPrecondition(in.IfMatch, in.IfNoneMatch)
	man, err := eng.CompleteUpload(b.ctx(), bucket, key, id, list, func(m *placement.Manifest) error {
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
		m.Attrs = &a
		return nil
	})
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", s3Error(err)
	}
	return s3response.CompleteMultipartUploadResult{Bucket: ptr(bucket), Key: ptr(key), ETag: ptr(quote(man.Attrs.ETag)),
		Location: ptr(fmt.Sprintf("/%s/%s", bucket, key))}, "", nil
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
	return s3Error(eng.AbortUpload(b.ctx(), bucket, clone(in.Key), clone(in.UploadId)))
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
	out := s3response.ListPartsResult{Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker, MaxParts: max,
		StorageClass: types.StorageClassStandard, Owner: owner, Initiator: s3response.Initiator(owner)}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == max {
			out.IsTruncated = true
			break
		}
		out.Parts = append(out.Parts, s3response.Part{PartNumber: p.Number, ETag: quote(p.ETag), Size: p.Size, LastModified: modified(p.Modified)})
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
		uploads = append(uploads, s3response.Upload{Key: u.Key, UploadID: u.ID, Initiated: modified(u.Initiated), Owner: owner,
			Initiator: s3response.Initiator(owner), StorageClass: types.StorageClassStandard})
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
