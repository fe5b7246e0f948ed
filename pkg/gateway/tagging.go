package gateway

import (
	"context"
	"maps"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/placement"
)

// tagsFrom parses an x-amz-tagging header (URL-encoded key=value pairs),
// as S3 checks it: at most 10 tags, valid keys and values, no key twice.
func tagsFrom(header *string) (map[string]string, error) {
	// Cloned first: what the parser returns points into its input.
	tags, err := backend.ParseObjectTags(clone(header))
	if err != nil {
		return nil, err
	}
	if len(tags) > placement.MaxTags {
		return nil, s3err.GetAPIError(s3err.ErrObjectTaggingLimited)
	}
	return tags, nil
}

// tagCount is x-amz-tagging-count: the number of tags, if any.
func tagCount(man *placement.Manifest) *int32 {
	if man.Attrs == nil || len(man.Attrs.Tags) == 0 {
		return nil
	}
	return ptr(int32(len(man.Attrs.Tags)))
}

// copyTags are the tags a CopyObject gives its destination: the source's
// (TaggingDirective COPY, the default) or the request's (REPLACE).
func copyTags(src *placement.Manifest, in s3response.CopyObjectInput) (map[string]string, error) {
	if in.TaggingDirective == types.TaggingDirectiveReplace {
		return tagsFrom(in.Tagging)
	}
	if src.Attrs == nil {
		return nil, nil
	}
	return maps.Clone(src.Attrs.Tags), nil
}

// GetObjectTagging implements backend.Backend: the current version's tag
// set (empty when it has none).
func (b *Backend) GetObjectTagging(_ context.Context, bucket, object, versionId string) (map[string]string, error) {
	if err := version(&versionId); err != nil {
		return nil, err
	}
	man, _, err := b.object(bucket, object)
	if err != nil {
		return nil, err
	}
	if man.Attrs == nil || man.Attrs.Tags == nil {
		return map[string]string{}, nil
	}
	return man.Attrs.Tags, nil
}

// PutObjectTagging implements backend.Backend: the tag set replaces the
// current version's (the gateway has checked the XML and S3's limits).
func (b *Backend) PutObjectTagging(_ context.Context, bucket, object, versionId string, tags map[string]string) error {
	if err := version(&versionId); err != nil {
		return err
	}
	bucket, object = clone(&bucket), clone(&object)
	rec, err := b.keyIn(bucket, object)
	if err != nil {
		return err
	}
	eng, err := b.data(rec)
	if err != nil {
		return err
	}
	own := make(map[string]string, len(tags))
	for k, v := range tags {
		own[clone(&k)] = clone(&v)
	}
	if _, err := eng.SetTags(b.ctx(), bucket, object, own); err != nil {
		return s3Error(err)
	}
	return nil
}

// DeleteObjectTagging implements backend.Backend: the current version
// has no tags after it.
func (b *Backend) DeleteObjectTagging(ctx context.Context, bucket, object, versionId string) error {
	return b.PutObjectTagging(ctx, bucket, object, versionId, nil)
}
