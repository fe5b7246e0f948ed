package gateway

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/placement"
)

// defaultMaxKeys is S3's page size.
const defaultMaxKeys = 1000

// urlEncoded reports whether the request asked for encoding-type=url. The
// gateway does not pass it on, but the backend's context is the request.
func urlEncoded(ctx context.Context) bool {
	if rc, ok := ctx.(*fasthttp.RequestCtx); ok {
		return string(rc.QueryArgs().Peek("encoding-type")) == "url"
	}
	return false
}

// encoder returns how names go into a listing: as they are, or
// URL-encoded (spaces as %20, so that both unquote and unquote_plus
// decode them).
func encoder(on bool) func(string) string {
	if !on {
		return func(s string) string { return s }
	}
	return func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
}

func maxKeys(p *int32) int {
	if p == nil || *p < 0 {
		return defaultMaxKeys
	}
	return int(min(*p, defaultMaxKeys))
}

func (b *Backend) page(ctx context.Context, bucket, prefix, delimiter, after string, max int, owner bool) (placement.Listing, []s3response.Object, []types.CommonPrefix, func(string) string, error) {
	rec, err := b.bucket(bucket)
	if err != nil {
		return placement.Listing{}, nil, nil, nil, err
	}
	l, err := b.Engine.Meta.ListPage(bucket, prefix, delimiter, after, max)
	if err != nil {
		return l, nil, nil, nil, err
	}
	enc := encoder(urlEncoded(ctx))
	var own *types.Owner
	if owner {
		own = &types.Owner{ID: ptr(b.owner(rec))}
	}
	objs := make([]s3response.Object, 0, len(l.Objects))
	for _, o := range l.Objects {
		obj := s3response.Object{Key: ptr(enc(o.Key)), Size: ptr(o.Size), ETag: ptr(quote(o.ETag)),
			LastModified: ptr(modified(o.Modified)), StorageClass: types.ObjectStorageClassStandard, Owner: own}
		if o.ChecksumAlgorithm != "" {
			obj.ChecksumAlgorithm = []types.ChecksumAlgorithm{types.ChecksumAlgorithm(o.ChecksumAlgorithm)}
			obj.ChecksumType = types.ChecksumType(o.ChecksumType)
		}
		objs = append(objs, obj)
	}
	var cps []types.CommonPrefix
	for _, p := range l.Prefixes {
		cps = append(cps, types.CommonPrefix{Prefix: ptr(enc(p))})
	}
	return l, objs, cps, enc, nil
}

// ListObjects implements backend.Backend (version 1: marker paging).
func (b *Backend) ListObjects(ctx context.Context, in *s3.ListObjectsInput) (s3response.ListObjectsResult, error) {
	bucket, prefix, delim, marker := clone(in.Bucket), clone(in.Prefix), clone(in.Delimiter), clone(in.Marker)
	max := maxKeys(in.MaxKeys)
	l, objs, cps, enc, err := b.page(ctx, bucket, prefix, delim, marker, max, true)
	if err != nil {
		return s3response.ListObjectsResult{}, err
	}
	out := s3response.ListObjectsResult{Name: ptr(bucket), Prefix: ptr(enc(prefix)), Marker: ptr(enc(marker)), Delimiter: optional(enc(delim)),
		MaxKeys: ptr(int32(max)), IsTruncated: ptr(l.Truncated), Contents: objs, CommonPrefixes: cps}
	if l.Truncated {
		out.NextMarker = ptr(enc(l.Next))
	}
	if urlEncoded(ctx) {
		out.EncodingType = types.EncodingTypeUrl
	}
	return out, nil
}

// ListObjectsV2 implements backend.Backend (continuation tokens).
func (b *Backend) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (s3response.ListObjectsV2Result, error) {
	bucket, prefix, delim, token, startAfter := clone(in.Bucket), clone(in.Prefix), clone(in.Delimiter), clone(in.ContinuationToken), clone(in.StartAfter)
	after := startAfter
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return s3response.ListObjectsV2Result{}, s3err.APIError{Code: "InvalidArgument", Description: "The continuation token provided is incorrect", HTTPStatusCode: 400}
		}
		after = string(raw)
	}
	max := maxKeys(in.MaxKeys)
	fetchOwner := in.FetchOwner != nil && *in.FetchOwner
	l, objs, cps, enc, err := b.page(ctx, bucket, prefix, delim, after, max, fetchOwner)
	if err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	out := s3response.ListObjectsV2Result{Name: ptr(bucket), Prefix: ptr(enc(prefix)), Delimiter: optional(enc(delim)), MaxKeys: ptr(int32(max)),
		KeyCount: ptr(int32(len(objs) + len(cps))), IsTruncated: ptr(l.Truncated), Contents: objs, CommonPrefixes: cps}
	if token != "" {
		out.ContinuationToken = ptr(token)
	}
	if startAfter != "" {
		out.StartAfter = ptr(enc(startAfter))
	}
	if l.Truncated {
		out.NextContinuationToken = ptr(base64.RawURLEncoding.EncodeToString([]byte(l.Next)))
	}
	if urlEncoded(ctx) {
		out.EncodingType = types.EncodingTypeUrl
	}
	return out, nil
}

// nullVersion is the version ID S3 gives every object of a bucket that
// was never versioned.
const nullVersion = "null"

// ListObjectVersions implements backend.Backend. Buckets are unversioned,
// so every object is its one version, "null" and latest, as S3 lists a
// bucket that was never versioned; there are no delete markers. Paging is
// by key (a key's one version is never split across pages).
func (b *Backend) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput) (s3response.ListVersionsResult, error) {
	bucket, prefix, delim, keyMarker, versionMarker := clone(in.Bucket), clone(in.Prefix), clone(in.Delimiter), clone(in.KeyMarker), clone(in.VersionIdMarker)
	if versionMarker != "" && keyMarker == "" {
		return s3response.ListVersionsResult{}, s3err.APIError{Code: "InvalidArgument",
			Description: "A version-id marker cannot be specified without a key marker.", HTTPStatusCode: 400}
	}
	if versionMarker != "" && versionMarker != nullVersion {
		return s3response.ListVersionsResult{}, s3err.APIError{Code: "InvalidArgument", Description: "Invalid version id specified", HTTPStatusCode: 400}
	}
	max := maxKeys(in.MaxKeys)
	l, objs, cps, enc, err := b.page(ctx, bucket, prefix, delim, keyMarker, max, true)
	if err != nil {
		return s3response.ListVersionsResult{}, err
	}
	versions := make([]s3response.ObjectVersion, 0, len(objs))
	for _, o := range objs {
		versions = append(versions, s3response.ObjectVersion{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified,
			ChecksumAlgorithm: o.ChecksumAlgorithm, ChecksumType: o.ChecksumType, Owner: o.Owner, StorageClass: types.ObjectVersionStorageClassStandard, IsLatest: ptr(true), VersionId: ptr(nullVersion)})
	}
	out := s3response.ListVersionsResult{Name: ptr(bucket), Prefix: ptr(enc(prefix)), Delimiter: optional(enc(delim)), MaxKeys: ptr(int32(max)),
		KeyMarker: ptr(enc(keyMarker)), VersionIdMarker: ptr(versionMarker), IsTruncated: ptr(l.Truncated), Versions: versions, CommonPrefixes: cps}
	if l.Truncated {
		out.NextKeyMarker, out.NextVersionIdMarker = ptr(enc(l.Next)), ptr(nullVersion)
	}
	if urlEncoded(ctx) {
		out.EncodingType = types.EncodingTypeUrl
	}
	return out, nil
}
