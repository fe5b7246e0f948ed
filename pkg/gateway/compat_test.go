package gateway

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Answers versitygw's integration suite (versitygw test full-flow) found
// wrong, as S3 gives them.
func TestAnswersAsS3Gives(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")

	// Listings name each object's checksum algorithm and type.
	put(t, c, *b, "compat/crc", []byte("x"), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	put(t, c, *b, "compat/plain", []byte("y"), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = "" })
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("compat/")})
	if err != nil {
		t.Fatal(err)
	}
	algos := map[string][]types.ChecksumAlgorithm{}
	types_ := map[string]types.ChecksumType{}
	for _, o := range l.Contents {
		algos[*o.Key], types_[*o.Key] = o.ChecksumAlgorithm, o.ChecksumType
	}
	if a := algos["compat/crc"]; len(a) != 1 || a[0] != types.ChecksumAlgorithmCrc32c || types_["compat/crc"] != types.ChecksumTypeFullObject {
		t.Errorf("listed checksum of compat/crc: %v %v", a, types_["compat/crc"])
	}
	if a := algos["compat/plain"]; len(a) != 0 {
		t.Errorf("listed checksum of an object uploaded without one: %v", a)
	}

	// Every algorithm's checksum comes back on HEAD and GET.
	body := []byte("sha512 body")
	sum := sha512.Sum512(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	put(t, c, *b, "compat/sha512", body, func(in *s3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha512
	})
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/sha512"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || h.ChecksumSHA512 == nil || *h.ChecksumSHA512 != want {
		t.Errorf("HEAD SHA-512: %v %v", h.ChecksumSHA512, err)
	}

	// The website redirect is kept, and never copied.
	put(t, c, *b, "compat/redirect", []byte("r"), func(in *s3.PutObjectInput) { in.WebsiteRedirectLocation = aws.String("/elsewhere") })
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/redirect")}); err != nil || aws.ToString(h.WebsiteRedirectLocation) != "/elsewhere" {
		t.Errorf("redirect: %v %v", h.WebsiteRedirectLocation, err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("compat/redirect-copy"), CopySource: aws.String("bucket-one/compat/redirect")}); err != nil {
		t.Fatal(err)
	}
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/redirect-copy")}); err != nil || h.WebsiteRedirectLocation != nil {
		t.Errorf("copied redirect: %v %v", h.WebsiteRedirectLocation, err)
	}

	// A date equal to Last-Modified is "unmodified since" (RFC 9110).
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/redirect")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/redirect"), IfUnmodifiedSince: h.LastModified}); err != nil {
		t.Errorf("If-Unmodified-Since = Last-Modified: %v", err)
	}
}
