package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"strings"
	"sync"
	"testing"
	"time"

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
	// S3's default: a full-object CRC64NVME for an object sent without one.
	if a := algos["compat/plain"]; len(a) != 1 || a[0] != types.ChecksumAlgorithmCrc64nvme || types_["compat/plain"] != types.ChecksumTypeFullObject {
		t.Errorf("listed checksum of an object uploaded without one: %v %v", a, types_["compat/plain"])
	}
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("compat/plain"), ChecksumMode: types.ChecksumModeEnabled}); err != nil ||
		aws.ToString(h.ChecksumCRC64NVME) != crc64nvme([]byte("y")) {
		t.Errorf("default CRC64NVME: %v %v", h.ChecksumCRC64NVME, err)
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

func crc64nvme(b []byte) string {
	var out [8]byte
	binary.BigEndian.PutUint64(out[:], crc64.Checksum(b, crc64.MakeTable(0x9a6c_9329_ac4b_c9b5)))
	return base64.StdEncoding.EncodeToString(out[:])
}

func crc32of(b []byte) string {
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(out[:])
}

func sha256of(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// Multipart checksums as S3 keeps them: each part's checked and kept, the
// object's composed from them at completion (FULL_OBJECT: the CRC of the
// whole object; COMPOSITE: the algorithm over the parts' checksums, -N),
// S3's default CRC64NVME without an algorithm; wrong or missing ones
// refused.
func TestMultipartChecksums(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	p1, p2 := rnd(5<<20, 40), rnd(1000, 41)
	whole := append(append([]byte(nil), p1...), p2...)
	upload := func(key string, alg types.ChecksumAlgorithm, typ types.ChecksumType, sums func(i int, in *s3.UploadPartInput)) (*string, []types.CompletedPart) {
		t.Helper()
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String(key), ChecksumAlgorithm: alg, ChecksumType: typ})
		if err != nil {
			t.Fatal(err)
		}
		var done []types.CompletedPart
		for i, p := range [][]byte{p1, p2} {
			in := &s3.UploadPartInput{Bucket: b, Key: aws.String(key), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytesReader(p)}
			if sums != nil {
				sums(i, in)
			}
			out, err := c.UploadPart(ctx, in)
			if err != nil {
				t.Fatalf("%s part %d: %v", key, i+1, err)
			}
			done = append(done, types.CompletedPart{PartNumber: in.PartNumber, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, ChecksumSHA256: out.ChecksumSHA256})
		}
		return cr.UploadId, done
	}
	complete := func(key string, id *string, parts []types.CompletedPart, opt ...func(*s3.CompleteMultipartUploadInput)) (*s3.CompleteMultipartUploadOutput, error) {
		in := &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String(key), UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
		for _, o := range opt {
			o(in)
		}
		return c.CompleteMultipartUpload(ctx, in)
	}

	// FULL_OBJECT CRC32: the parts' CRCs computed by nb (none sent), the
	// object's the CRC of all its bytes.
	id, parts := upload("mp-crc32", types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject, nil)
	if *parts[0].ChecksumCRC32 != crc32of(p1) {
		t.Fatalf("part CRC32 %s, want %s", *parts[0].ChecksumCRC32, crc32of(p1))
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: aws.String("mp-crc32"), UploadId: id})
	if err != nil || lp.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32 || lp.ChecksumType != types.ChecksumTypeFullObject || aws.ToString(lp.Parts[1].ChecksumCRC32) != crc32of(p2) {
		t.Errorf("list parts: %+v %v", lp, err)
	}
	bad := append([]types.CompletedPart(nil), parts...)
	bad[1].ChecksumCRC32 = aws.String(crc32of(p1))
	if _, err := complete("mp-crc32", id, bad); code(err) != "InvalidPart" {
		t.Errorf("a wrong part checksum: %v", err)
	}
	missing := append([]types.CompletedPart(nil), parts...)
	missing[0].ChecksumCRC32 = nil
	if _, err := complete("mp-crc32", id, missing); code(err) != "InvalidRequest" {
		t.Errorf("a part checksum missing: %v", err)
	}
	if _, err := complete("mp-crc32", id, parts, func(in *s3.CompleteMultipartUploadInput) { in.ChecksumCRC32 = aws.String(crc32of(p1)) }); code(err) != "BadDigest" {
		t.Errorf("a wrong object checksum: %v", err)
	}
	out, err := complete("mp-crc32", id, parts, func(in *s3.CompleteMultipartUploadInput) { in.ChecksumCRC32 = aws.String(crc32of(whole)) })
	if err != nil || aws.ToString(out.ChecksumCRC32) != crc32of(whole) || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("complete: %+v %v", out, err)
	}
	// Retried after it succeeded: the same answer.
	if again, err := complete("mp-crc32", id, parts); err != nil || *again.ETag != *out.ETag {
		t.Errorf("retried completion: %v", err)
	}
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("mp-crc32"), ChecksumMode: types.ChecksumModeEnabled}); err != nil || aws.ToString(h.ChecksumCRC32) != crc32of(whole) {
		t.Errorf("HEAD: %v %v", h.ChecksumCRC32, err)
	}

	// COMPOSITE SHA256: parts must carry theirs; the object's is the
	// SHA-256 of the parts' SHA-256s, -2.
	id, parts = upload("mp-sha", types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite, func(i int, in *s3.UploadPartInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
	})
	want := base64.StdEncoding.EncodeToString(sha256of(append(sha256of(p1), sha256of(p2)...))) + "-2"
	out, err = complete("mp-sha", id, parts)
	if err != nil || aws.ToString(out.ChecksumSHA256) != want || out.ChecksumType != types.ChecksumTypeComposite {
		t.Fatalf("composite: %v want %s, %v", aws.ToString(out.ChecksumSHA256), want, err)
	}
	// A part asked for by number comes with its own checksum.
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("mp-sha"), PartNumber: aws.Int32(2), ChecksumMode: types.ChecksumModeEnabled}); err != nil ||
		aws.ToString(h.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sha256of(p2)) {
		t.Errorf("HEAD part 2: %v %v", h.ChecksumSHA256, err)
	}
	if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("mp-sha"), Range: aws.String("bytes=0-9"), ChecksumMode: types.ChecksumModeEnabled}); err != nil || h.ChecksumSHA256 != nil {
		t.Errorf("HEAD of a range gave a checksum: %v %v", h.ChecksumSHA256, err)
	}
	a, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("mp-sha"), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts}})
	if err != nil || a.ObjectParts == nil || aws.ToString(a.ObjectParts.Parts[0].ChecksumSHA256) != base64.StdEncoding.EncodeToString(sha256of(p1)) {
		t.Errorf("parts' checksums in the attributes: %+v %v", a.ObjectParts, err)
	}

	// A part's checksum of another algorithm than the upload's, or a wrong
	// one, is refused.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("mp-x"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp-x"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytesReader(p2),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sha256of(p2)))}); code(err) != "InvalidRequest" {
		t.Errorf("a part checksum of another algorithm: %v", err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp-x"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytesReader(p2),
		ChecksumCRC32: aws.String(crc32of(p1))}); code(err) != "BadDigest" {
		t.Errorf("a wrong part checksum: %v", err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: aws.String("mp-x"), UploadId: cr.UploadId}); err != nil {
		t.Fatal(err)
	}

	// No algorithm: S3's default, CRC64NVME of the whole object.
	id, parts = upload("mp-none", "", "", func(i int, in *s3.UploadPartInput) { in.ChecksumAlgorithm = "" })
	out, err = complete("mp-none", id, parts)
	if err != nil || aws.ToString(out.ChecksumCRC64NVME) != crc64nvme(whole) {
		t.Fatalf("default checksum: %v want %s, %v", aws.ToString(out.ChecksumCRC64NVME), crc64nvme(whole), err)
	}
	// Completions racing: every one answers the object one of them made.
	id, parts = upload("mp-race", "", "", nil)
	etags := make(chan string, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := complete("mp-race", id, parts)
			if err != nil {
				t.Errorf("a racing completion: %v", err)
				etags <- ""
				return
			}
			etags <- *out.ETag
		}()
	}
	wg.Wait()
	close(etags)
	first := ""
	for e := range etags {
		if first == "" {
			first = e
		}
		if e != first {
			t.Errorf("racing completions answered %s and %s", first, e)
		}
	}
	got, _ := get(t, c, *b, "mp-none")
	if string(got) != string(whole) || !strings.HasSuffix(*out.ETag, `-2"`) {
		t.Errorf("mp-none read back wrong or ETag %s", *out.ETag)
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Conditional deletes and copies, and the source owner a copy expects.
func TestConditionalDeletesAndCopies(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	out := put(t, c, *b, "cond/del", []byte("delete me"))
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("cond/del"), IfMatch: aws.String(`"0123"`)}); code(err) != "PreconditionFailed" {
		t.Errorf("delete if-match another ETag: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("cond/del"), IfMatchSize: aws.Int64(1)}); code(err) != "PreconditionFailed" {
		t.Errorf("delete if-match-size another size: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("cond/del")}); err != nil {
		t.Fatalf("a refused conditional delete deleted: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("cond/del"), IfMatch: out.ETag, IfMatchSize: aws.Int64(9)}); err != nil {
		t.Errorf("delete if-match its ETag: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("cond/del")}); code(err) != "NotFound" {
		t.Errorf("after the conditional delete: %v", err)
	}

	// Copy conditionals: a true If-Match outweighs a false
	// If-Unmodified-Since (as S3 documents); a part copy checks them too.
	src := put(t, c, *b, "cond/src", rnd(100, 50))
	past := time.Now().Add(-72 * time.Hour)
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("cond/dst"), CopySource: aws.String("bucket-one/cond/src"),
		CopySourceIfMatch: src.ETag, CopySourceIfUnmodifiedSince: &past}); err != nil {
		t.Errorf("copy if-match true, if-unmodified-since false: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("cond/dst"), CopySource: aws.String("bucket-one/cond/src"),
		CopySourceIfUnmodifiedSince: &past}); code(err) != "PreconditionFailed" {
		t.Errorf("copy if-unmodified-since false: %v", err)
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("cond/mp")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: aws.String("cond/mp"), UploadId: cr.UploadId})
	if _, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: aws.String("cond/mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String("bucket-one/cond/src"), CopySourceIfMatch: aws.String(`"0123"`)}); code(err) != "PreconditionFailed" {
		t.Errorf("part copy if-match another ETag: %v", err)
	}
	if _, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: aws.String("cond/mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String("bucket-one/cond/src"), ExpectedSourceBucketOwner: aws.String("someone-else")}); code(err) != "AccessDenied" {
		t.Errorf("part copy from a bucket of another owner than expected: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("cond/dst"), CopySource: aws.String("bucket-one/cond/src"),
		ExpectedSourceBucketOwner: aws.String(c1Key)}); err != nil {
		t.Errorf("copy expecting the right owner: %v", err)
	}
}

// Object lock headers on a bucket without object lock (every nb bucket)
// are refused, as S3 refuses them, and nothing is stored.
func TestObjectLockHeadersRefused(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	until := time.Now().Add(48 * time.Hour)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("locked"), Body: bytesReader([]byte("x")),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until}); code(err) != "InvalidRequest" {
		t.Errorf("PUT with a retention: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("locked")}); code(err) != "NotFound" {
		t.Errorf("the refused PUT stored the object: %v", err)
	}
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("locked"),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn}); code(err) != "InvalidRequest" {
		t.Errorf("multipart with a legal hold: %v", err)
	}
}
