package gateway

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func tagSet(t *testing.T, c *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get tagging %s/%s: %v", bucket, key, err)
	}
	got := map[string]string{}
	for _, tag := range out.TagSet {
		got[*tag.Key] = *tag.Value
	}
	return got
}

func TestObjectTagging(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	// On PUT (a small object: packed) and on a larger one (extents).
	for _, body := range [][]byte{[]byte("tagged"), rnd(3<<20, 30)} {
		key := aws.String("tagged")
		put(t, c, *b, *key, body, func(in *s3.PutObjectInput) { in.Tagging = aws.String("team=data&cost%20center=a%2Bb") })
		want := map[string]string{"team": "data", "cost center": "a+b"}
		if got := tagSet(t, c, *b, *key); !maps.Equal(got, want) {
			t.Fatalf("tags after PUT %v, want %v", got, want)
		}
		if _, out := get(t, c, *b, *key); out.TagCount == nil || *out.TagCount != 2 {
			t.Errorf("GET tag count %v", out.TagCount)
		}
		// Replaced, then deleted.
		if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: key, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}); err != nil {
			t.Fatal(err)
		}
		if got := tagSet(t, c, *b, *key); !maps.Equal(got, map[string]string{"k": "v"}) {
			t.Errorf("tags after PutObjectTagging %v", got)
		}
		if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: key}); err != nil || h.TagCount == nil || *h.TagCount != 1 {
			t.Errorf("HEAD tag count: %+v %v", h, err)
		}
		if got, _ := get(t, c, *b, *key); string(got) != string(body) {
			t.Error("the body changed with the tags")
		}
		if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: b, Key: key}); err != nil {
			t.Fatal(err)
		}
		if got := tagSet(t, c, *b, *key); len(got) != 0 {
			t.Errorf("tags after DeleteObjectTagging %v", got)
		}
		if _, out := get(t, c, *b, *key); out.TagCount != nil {
			t.Errorf("tag count with no tags %v", *out.TagCount)
		}
	}
	// What S3 refuses.
	eleven := &types.Tagging{}
	for i := range 11 {
		eleven.TagSet = append(eleven.TagSet, types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")})
	}
	for name, err := range map[string]error{
		"BadRequest": func() error {
			_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("tagged"), Tagging: eleven})
			return err
		}(),
		"NoSuchKey": func() error {
			_, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("no-such")})
			return err
		}(),
		"NoSuchKey ": func() error {
			_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: aws.String("no-such"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
			return err
		}(),
		"NoSuchVersion": func() error {
			_, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("tagged"), VersionId: aws.String("v2")})
			return err
		}(),
		"AccessDenied": func() error {
			_, err := client(c2Key, c2Secret).GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: aws.String("tagged")})
			return err
		}(),
		"InvalidTag": func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("bad-tags"), Tagging: aws.String("a=%3Cb%3E")})
			return err
		}(),
	} {
		if got := code(err); got != name && got+" " != name {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("bad-tags")}); code(err) != "NotFound" {
		t.Errorf("a PUT with bad tags stored the object: %v", err)
	}

	// Copies take the source's tags, or with REPLACE the request's; a
	// multipart upload's tags are the object's.
	put(t, c, *b, "src-tagged", []byte("src"), func(in *s3.PutObjectInput) { in.Tagging = aws.String("a=1") })
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy-tags"), CopySource: aws.String("bucket-one/src-tagged")}); err != nil {
		t.Fatal(err)
	}
	if got := tagSet(t, c, *b, "copy-tags"); !maps.Equal(got, map[string]string{"a": "1"}) {
		t.Errorf("copied tags %v", got)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy-tags"), CopySource: aws.String("bucket-one/src-tagged"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("b=2")}); err != nil {
		t.Fatal(err)
	}
	if got := tagSet(t, c, *b, "copy-tags"); !maps.Equal(got, map[string]string{"b": "2"}) {
		t.Errorf("replaced tags %v", got)
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp-tags"), Tagging: aws.String("mp=yes")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp-tags"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp-tags"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := tagSet(t, c, *b, "mp-tags"); !maps.Equal(got, map[string]string{"mp": "yes"}) {
		t.Errorf("multipart tags %v", got)
	}
}

func TestBucketTagging(t *testing.T) {
	ctx := context.Background()
	c := client(c2Key, c2Secret)
	b := aws.String("bucket-two")
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); code(err) != "NoSuchTagSet" {
		t.Errorf("a bucket never tagged: %v", err)
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if err != nil || len(out.TagSet) != 1 || *out.TagSet[0].Key != "env" || *out.TagSet[0].Value != "prod" {
		t.Fatalf("bucket tags: %+v %v", out, err)
	}
	if _, err := client(c1Key, c1Secret).GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); code(err) != "AccessDenied" {
		t.Errorf("another claim reads the tags: %v", err)
	}
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); code(err) != "NoSuchTagSet" {
		t.Errorf("after DeleteBucketTagging: %v", err)
	}

	// Tags given at CreateBucket, checked as S3 checks them; they go with
	// the bucket.
	admin := client(adminKey, adminSecret)
	name := aws.String("tagged-at-birth")
	cfg := func(tags ...types.Tag) *types.CreateBucketConfiguration {
		return &types.CreateBucketConfiguration{Tags: tags}
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: name, CreateBucketConfiguration: cfg(types.Tag{Key: aws.String("a"), Value: aws.String("<b>")})}); code(err) != "InvalidTag" {
		t.Errorf("a bad tag at CreateBucket: %v", err)
	}
	if _, err := admin.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: name}); err == nil {
		t.Error("a CreateBucket refused for its tags made the bucket")
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: name, CreateBucketConfiguration: cfg(types.Tag{Key: aws.String("team"), Value: aws.String("x")})}); err != nil {
		t.Fatal(err)
	}
	if out, err := admin.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: name}); err != nil || len(out.TagSet) != 1 || *out.TagSet[0].Value != "x" {
		t.Errorf("tags given at CreateBucket: %+v %v", out, err)
	}
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: name}); code(err) != "NoSuchTagSet" {
		t.Errorf("a bucket made again under a deleted one's name has its tags: %v", err)
	}
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: name}); err != nil {
		t.Fatal(err)
	}
}
