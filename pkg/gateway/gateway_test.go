package gateway

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/faulty"
	"github.com/nbctl/nb/pkg/blockstore/mem"
	"github.com/nbctl/nb/pkg/placement"
)

// One endpoint serves the whole package (the gateway allows one per
// process): over two faulty memory stores, buckets b1 (claim key C1) and
// b2 (claim key C2) on a Mirror of both, and the admin.
var env struct {
	url    string
	eng    *placement.Engine
	faults map[string]*faulty.Store
	accts  *Accounts
}

const (
	adminKey, adminSecret = "ADMINKEY", "adminsecret0123456789"
	c1Key, c1Secret       = "C1KEY", "c1secret"
	c2Key, c2Secret       = "C2KEY", "c2secret"
)

var mirror = placement.Policy{Tiers: []placement.Tier{{Placement: "Mirror", Stores: []string{"s0", "s1"}}}}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nb-gateway-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	meta, err := placement.OpenMeta(filepath.Join(dir, "buckets.db"))
	if err != nil {
		panic(err)
	}
	if err := meta.Hold(); err != nil {
		panic(err)
	}
	env.faults = map[string]*faulty.Store{}
	stores := map[string]blockstore.Store{}
	for i, n := range []string{"s0", "s1"} {
		f := faulty.New(mem.New(n, 0), uint64(i))
		env.faults[n], stores[n] = f, f
	}
	env.eng = &placement.Engine{Stores: stores, Meta: meta, ChunkSize: 1 << 20}
	for _, b := range []string{"bucket-one", "bucket-two"} {
		if err := meta.PutBucket(placement.Bucket{Name: b, Policy: mirror, Created: time.Now().UTC()}); err != nil {
			panic(err)
		}
	}
	env.accts = &Accounts{}
	env.accts.Set([]Account{{Access: adminKey, Secret: adminSecret, Admin: true}, {Access: c1Key, Secret: c1Secret, Bucket: "bucket-one"}, {Access: c2Key, Secret: c2Secret, Bucket: "bucket-two"}})
	addr := freeAddr()
	ctx, cancel := context.WithCancel(context.Background())
	be := &Backend{Engine: env.eng, Accounts: env.accts, Base: ctx,
		NewBucket: func(context.Context) (placement.Bucket, error) {
			return placement.Bucket{Policy: mirror, Class: "default"}, nil
		},
		ClaimOf: func(b string) string {
			if b == "bucket-one" || b == "bucket-two" {
				return "noobaa/" + b
			}
			return ""
		}}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, be, Config{Address: addr, RootAccess: adminKey, RootSecret: adminSecret}) }()
	env.url = "http://" + addr
	if err := waitListening(addr, done); err != nil {
		panic(err)
	}
	code := m.Run()
	cancel()
	<-done
	return code
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(addr string, done chan error) error {
	for i := 0; i < 500; i++ {
		select {
		case err := <-done:
			return fmt.Errorf("endpoint stopped: %v", err)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("endpoint did not listen")
}

func client(key, secret string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(env.url), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		Retryer:     aws.NopRetryer{},
	})
}

// oneConnClient is client over at most one connection at a time.
func oneConnClient(key, secret string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(env.url), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		Retryer:     aws.NopRetryer{},
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}},
	})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func rnd(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func get(t *testing.T, c *s3.Client, bucket, key string, opt ...func(*s3.GetObjectInput)) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	for _, o := range opt {
		o(in)
	}
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return b, out
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte, opt ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}
	for _, o := range opt {
		o(in)
	}
	out, err := c.PutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

func TestAccountsSeeOnlyTheirBucket(t *testing.T) {
	ctx := context.Background()
	c1 := client(c1Key, c1Secret)
	lb, err := c1.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "bucket-one" {
		t.Fatalf("claim 1 lists %v, %v", lb, err)
	}
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("x"), Body: strings.NewReader("x")}); code(err) != "AccessDenied" {
		t.Errorf("put into another claim's bucket: %v", err)
	}
	if _, err := c1.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-two")}); code(err) != "AccessDenied" {
		t.Errorf("list another claim's bucket: %v", err)
	}
	if _, err := c1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mine")}); code(err) != "AccessDenied" {
		t.Errorf("a claim account created a bucket: %v", err)
	}
	if _, err := client("NOSUCHKEY", "x").ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := client(c1Key, "wrong").ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	admin := client(adminKey, adminSecret)
	lb, err = admin.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) < 2 {
		t.Fatalf("admin lists %v, %v", lb, err)
	}
	// Keys come and go without a restart.
	env.accts.Set([]Account{{Access: adminKey, Secret: adminSecret, Admin: true}, {Access: c1Key, Secret: c1Secret, Bucket: "bucket-one"}, {Access: c2Key, Secret: c2Secret, Bucket: "bucket-two"}, {Access: "NEW", Secret: "newsecret", Bucket: "bucket-two"}})
	if _, err := client("NEW", "newsecret").ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-two")}); err != nil {
		t.Errorf("a key added: %v", err)
	}
	env.accts.Set([]Account{{Access: adminKey, Secret: adminSecret, Admin: true}, {Access: c1Key, Secret: c1Secret, Bucket: "bucket-one"}, {Access: c2Key, Secret: c2Secret, Bucket: "bucket-two"}})
	if _, err := client("NEW", "newsecret").ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-two")}); code(err) != "InvalidAccessKeyId" {
		t.Errorf("a key removed: %v", err)
	}
}

func TestAdminCreatesAndDeletesBuckets(t *testing.T) {
	ctx := context.Background()
	admin := client(adminKey, adminSecret)
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-by-admin")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-by-admin")}); code(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("again: %v", err)
	}
	if _, err := admin.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("made-by-admin")}); err != nil {
		t.Errorf("head: %v", err)
	}
	if loc, err := admin.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("made-by-admin")}); err != nil || (loc.LocationConstraint != "" && loc.LocationConstraint != "us-east-1") {
		t.Errorf("location: %+v %v", loc, err)
	}
	put(t, admin, "made-by-admin", "k", []byte("v"))
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("made-by-admin")}); code(err) != "BucketNotEmpty" {
		t.Errorf("delete non-empty: %v", err)
	}
	if _, err := admin.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("made-by-admin"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	// An upload in progress does not keep the bucket (S3 aborts it).
	cr, err := admin.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("made-by-admin"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("made-by-admin"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("made-by-admin")}); err != nil {
		t.Fatalf("delete empty: %v", err)
	}
	if _, err := admin.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("made-by-admin")}); err == nil {
		t.Errorf("bucket still there")
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-by-admin")}); err != nil {
		t.Fatal(err)
	}
	if l, err := admin.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("made-by-admin")}); err != nil || len(l.Uploads) != 0 {
		t.Errorf("uploads of the deleted bucket: %+v %v", l, err)
	}
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("made-by-admin")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bucket-one")}); code(err) != "AccessDenied" {
		t.Errorf("deleting a claim's bucket over S3: %v", err)
	}
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}); code(err) != "InvalidBucketName" {
		t.Errorf("bad name: %v", err)
	}
}

func TestObjectsRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	body := rnd(3<<20+123, 1)
	out := put(t, c, "bucket-one", "dir/obj", body, func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("video/mp4")
		in.Metadata = map[string]string{"Color": "blue", "x-y": "z"}
		in.CacheControl = aws.String("max-age=60")
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	})
	if strings.Trim(*out.ETag, `"`) != md5hex(body) {
		t.Fatalf("etag %s, want %s", *out.ETag, md5hex(body))
	}
	got, gout := get(t, c, "bucket-one", "dir/obj", func(in *s3.GetObjectInput) { in.ChecksumMode = types.ChecksumModeEnabled })
	if !bytes.Equal(got, body) || *gout.ContentType != "video/mp4" || gout.Metadata["color"] != "blue" || gout.Metadata["x-y"] != "z" || *gout.CacheControl != "max-age=60" {
		t.Fatalf("get: equal %v, %+v", bytes.Equal(got, body), gout)
	}
	if gout.ChecksumCRC32C == nil || *gout.ChecksumCRC32C == "" {
		t.Errorf("no CRC32C returned with checksum mode on")
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("dir/obj")})
	if err != nil || *h.ContentLength != int64(len(body)) || *h.ETag != *out.ETag {
		t.Fatalf("head %+v %v", h, err)
	}
	// Ranges.
	for _, rg := range []struct {
		hdr      string
		from, to int
	}{{"bytes=0-0", 0, 1}, {"bytes=100-199", 100, 200}, {"bytes=-10", len(body) - 10, len(body)}, {fmt.Sprintf("bytes=%d-", 1<<20-5), 1<<20 - 5, len(body)}, {"bytes=5-99999999", 5, len(body)}} {
		got, gout := get(t, c, "bucket-one", "dir/obj", func(in *s3.GetObjectInput) { in.Range = aws.String(rg.hdr) })
		if !bytes.Equal(got, body[rg.from:rg.to]) || gout.ContentRange == nil {
			t.Errorf("range %s: %d bytes, content-range %v", rg.hdr, len(got), gout.ContentRange)
		}
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("dir/obj"), Range: aws.String(fmt.Sprintf("bytes=%d-", len(body)))}); code(err) != "InvalidRange" {
		t.Errorf("range past the end: %v", err)
	}
	// Conditionals.
	etag := *out.ETag
	past := time.Now().Add(-time.Hour)
	for name, c2 := range map[string]struct {
		in   func(*s3.GetObjectInput)
		want string
	}{
		"if-match ok":        {func(in *s3.GetObjectInput) { in.IfMatch = &etag }, ""},
		"if-match wrong":     {func(in *s3.GetObjectInput) { in.IfMatch = aws.String(`"abc"`) }, "PreconditionFailed"},
		"if-none-match hit":  {func(in *s3.GetObjectInput) { in.IfNoneMatch = &etag }, "NotModified"},
		"if-unmodified-past": {func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = &past }, "PreconditionFailed"},
		"if-modified-past":   {func(in *s3.GetObjectInput) { in.IfModifiedSince = &past }, ""},
	} {
		in := &s3.GetObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("dir/obj")}
		c2.in(in)
		o, err := c.GetObject(ctx, in)
		if err == nil {
			o.Body.Close()
		}
		if got := code(err); got != c2.want && !(c2.want == "NotModified" && strings.Contains(got, "304")) {
			t.Errorf("%s: %q, want %q", name, got, c2.want)
		}
	}
	// Conditional writes.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("dir/obj"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); code(err) != "PreconditionFailed" {
		t.Errorf("if-none-match * on an existing key: %v", err)
	}
	if got, _ := get(t, c, "bucket-one", "dir/obj"); !bytes.Equal(got, body) {
		t.Errorf("a refused conditional write changed the object")
	}
	put(t, c, "bucket-one", "fresh", []byte("x"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
	t.Cleanup(func() { // for a rerun in the same process (-count)
		_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("fresh")})
	})
	// Zero bytes, odd keys.
	odd := []string{"with space", "plus+sign", "per%cent", "ünï/cødé ✓", "a/../b", strings.Repeat("k", 1020), "tab\tand?query&x=y#frag"}
	for _, k := range odd {
		put(t, c, "bucket-one", "odd/"+k, []byte(k))
	}
	put(t, c, "bucket-one", "empty", nil)
	if got, gout := get(t, c, "bucket-one", "empty"); len(got) != 0 || *gout.ContentLength != 0 || strings.Trim(*gout.ETag, `"`) != md5hex(nil) {
		t.Errorf("zero bytes: %d %+v", len(got), gout)
	}
	for _, k := range odd {
		if got, _ := get(t, c, "bucket-one", "odd/"+k); string(got) != k {
			t.Errorf("key %q read back %q", k, got)
		}
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-one"), Prefix: aws.String("odd/")})
	if err != nil || len(l.Contents) != len(odd) {
		t.Fatalf("odd keys listed: %v %v", l, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")}); code(err) != "KeyTooLongError" {
		t.Errorf("1025-byte key: %v", err)
	}
	// Bad digests are refused and leave nothing.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("bad"), Body: strings.NewReader("hello"), ChecksumCRC32: aws.String("AAAAAA==")}); err == nil {
		t.Errorf("a wrong CRC32 was accepted")
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("bad"), Body: strings.NewReader("hello"), ChecksumSHA256: aws.String("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")}); err == nil {
		t.Errorf("a wrong SHA-256 was accepted")
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("bad")}); err == nil {
		t.Errorf("a refused upload is visible")
	}
	// Delete: missing keys succeed; DeleteObjects reports each.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("never")}); err != nil {
		t.Errorf("delete a missing key: %v", err)
	}
	var ids []types.ObjectIdentifier
	for _, k := range odd {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String("odd/" + k)})
	}
	do, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bucket-one"), Delete: &types.Delete{Objects: append(ids, types.ObjectIdentifier{Key: aws.String("never")})}})
	if err != nil || len(do.Deleted) != len(odd)+1 || len(do.Errors) != 0 {
		t.Fatalf("delete objects: %+v %v", do, err)
	}
	if l, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-one"), Prefix: aws.String("odd/")}); len(l.Contents) != 0 {
		t.Errorf("left after delete objects: %d", len(l.Contents))
	}
}

func TestCopyObject(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	body := rnd(2<<20+7, 2)
	put(t, c, "bucket-one", "src", body, func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/plain")
		in.Metadata = map[string]string{"a": "1"}
	})
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("copy"), CopySource: aws.String("bucket-one/src")}); err != nil {
		t.Fatal(err)
	}
	got, out := get(t, c, "bucket-one", "copy")
	if !bytes.Equal(got, body) || *out.ContentType != "text/plain" || out.Metadata["a"] != "1" || strings.Trim(*out.ETag, `"`) != md5hex(body) {
		t.Fatalf("copy: %+v", out)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("copy"), CopySource: aws.String("bucket-one/src"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("image/png"), Metadata: map[string]string{"b": "2"}}); err != nil {
		t.Fatal(err)
	}
	_, out = get(t, c, "bucket-one", "copy")
	if *out.ContentType != "image/png" || out.Metadata["b"] != "2" || out.Metadata["a"] != "" {
		t.Errorf("replace: %+v", out)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("src"), CopySource: aws.String("bucket-one/src")}); code(err) != "InvalidRequest" {
		t.Errorf("copy onto itself unchanged: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("x"), CopySource: aws.String("bucket-one/src"), CopySourceIfMatch: aws.String(`"nope"`)}); code(err) != "PreconditionFailed" {
		t.Errorf("copy-source-if-match: %v", err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("x"), CopySource: aws.String("bucket-two/whatever")}); code(err) != "AccessDenied" {
		t.Errorf("copy from another claim's bucket: %v", err)
	}
}

func TestListingPagesWithDelimiters(t *testing.T) {
	ctx := context.Background()
	admin := client(adminKey, adminSecret)
	// A new bucket each run (-count reruns in one process keep the last).
	many := fmt.Sprintf("many-%d", time.Now().UnixNano())
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(many)}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("d%d/f%04d", i%5, i)
		if i%10 == 0 {
			k = fmt.Sprintf("top%04d", i)
		}
		want = append(want, k)
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(many), Key: &k, Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(want)
	// v2, all keys in pages of 1000 (the default), then 333.
	for _, max := range []int32{0, 333} {
		var got []string
		var token *string
		for {
			in := &s3.ListObjectsV2Input{Bucket: aws.String(many), ContinuationToken: token}
			if max > 0 {
				in.MaxKeys = &max
			}
			l, err := admin.ListObjectsV2(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range l.Contents {
				got = append(got, *o.Key)
			}
			if !*l.IsTruncated {
				break
			}
			token = l.NextContinuationToken
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("max %d: %d keys, want %d", max, len(got), len(want))
		}
	}
	// v1 with a delimiter, two keys a page: prefixes and top-level keys.
	var objs, prefixes []string
	var marker *string
	for {
		l, err := admin.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(many), Delimiter: aws.String("/"), Marker: marker, MaxKeys: aws.Int32(7)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range l.Contents {
			objs = append(objs, *o.Key)
		}
		for _, p := range l.CommonPrefixes {
			prefixes = append(prefixes, *p.Prefix)
		}
		if !*l.IsTruncated {
			break
		}
		marker = l.NextMarker
	}
	if len(objs) != 200 || strings.Join(prefixes, ",") != "d0/,d1/,d2/,d3/,d4/" {
		t.Errorf("v1 with /: %d objects, prefixes %v", len(objs), prefixes)
	}
	// A prefix and start-after.
	l, err := admin.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(many), Prefix: aws.String("d3/"), StartAfter: aws.String("d3/f1000")})
	if err != nil || len(l.Contents) == 0 || *l.Contents[0].Key <= "d3/f1000" || *l.KeyCount != int32(len(l.Contents)) {
		t.Fatalf("start-after: %v", err)
	}
	// max-keys=0: an empty page, not truncated (as S3 and s3-tests have it).
	if l, err := admin.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(many), MaxKeys: aws.Int32(0)}); err != nil || *l.IsTruncated || len(l.Contents) != 0 || *l.KeyCount != 0 {
		t.Errorf("max-keys 0: %+v %v", l, err)
	}
	// Versions of an unversioned bucket: every key once, "null" and
	// latest, paged by key marker.
	var versions []string
	var keyMarker, versionMarker *string
	for {
		l, err := admin.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(many), KeyMarker: keyMarker, VersionIdMarker: versionMarker, MaxKeys: aws.Int32(333)})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range l.Versions {
			if *v.VersionId != "null" || !*v.IsLatest || *v.Size != 1 {
				t.Fatalf("version %+v", v)
			}
			versions = append(versions, *v.Key)
		}
		if len(l.DeleteMarkers) != 0 {
			t.Fatalf("delete markers %+v", l.DeleteMarkers)
		}
		if !*l.IsTruncated {
			break
		}
		keyMarker, versionMarker = l.NextKeyMarker, l.NextVersionIdMarker
	}
	if strings.Join(versions, ",") != strings.Join(want, ",") {
		t.Fatalf("versions: %d keys, want %d", len(versions), len(want))
	}
	for _, in := range []*s3.ListObjectVersionsInput{
		{Bucket: aws.String(many), VersionIdMarker: aws.String("null")},                                  // a version marker needs a key marker
		{Bucket: aws.String(many), KeyMarker: aws.String("d0/"), VersionIdMarker: aws.String("3HL4kqt")}, // no such version ID here
	} {
		if _, err := admin.ListObjectVersions(ctx, in); code(err) != "InvalidArgument" {
			t.Errorf("versions %+v: %v, want InvalidArgument", in, err)
		}
	}
	// encoding-type=url.
	put(t, admin, many, "sp ace+plus", nil)
	le, err := admin.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(many), Prefix: aws.String("sp"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(le.Contents) != 1 || *le.Contents[0].Key != "sp%20ace%2Bplus" || le.EncodingType != types.EncodingTypeUrl {
		t.Errorf("encoding-type=url: %+v %v", le, err)
	}
}

// Answers of a bucket without versions, tags, CORS or a website, as S3
// gives them for one that never had them, and the object attributes.
func TestUnversionedBucketAnswers(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	body := []byte("attributes")
	put(t, c, *b, "attrs", body, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts}
	a, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("attrs"), ObjectAttributes: all})
	if err != nil {
		t.Fatal(err)
	}
	if *a.ETag != md5hex(body) || *a.ObjectSize != int64(len(body)) || a.StorageClass != types.StorageClassStandard || a.ObjectParts != nil ||
		a.Checksum == nil || a.Checksum.ChecksumCRC32C == nil || a.LastModified == nil {
		t.Errorf("attributes: %+v", a)
	}
	// Only what is asked for.
	if a, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("attrs"), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}}); err != nil || a.ETag != nil || *a.ObjectSize != int64(len(body)) {
		t.Errorf("size only: %+v %v", a, err)
	}
	// A multipart object's parts, a page at a time.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("attrs-mp")})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, p := range [][]byte{rnd(5<<20, 20), rnd(5<<20, 21), rnd(10, 22)} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("attrs-mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("attrs-mp"), UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	a, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("attrs-mp"), ObjectAttributes: all, MaxParts: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.ObjectParts; p == nil || len(p.Parts) != 2 || !*p.IsTruncated || *p.NextPartNumberMarker != "2" || *p.Parts[1].Size != 5<<20 || !strings.HasSuffix(*a.ETag, "-3") {
		t.Fatalf("parts, first page: %+v", a.ObjectParts)
	}
	a, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("attrs-mp"), ObjectAttributes: all, PartNumberMarker: aws.String("2")})
	if p := a.ObjectParts; err != nil || p == nil || len(p.Parts) != 1 || *p.IsTruncated || *p.Parts[0].PartNumber != 3 || *p.Parts[0].Size != 10 {
		t.Fatalf("parts, second page: %+v %v", a, err)
	}
	if _, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: aws.String("attrs-mp"), ObjectAttributes: all, PartNumberMarker: aws.String("x")}); code(err) != "InvalidArgument" {
		t.Errorf("part number marker x: %v, want InvalidArgument", err)
	}
	// Part 1 of an object not uploaded in parts is all of it, without a
	// parts count; part 2 does not exist.
	if got, out := get(t, c, *b, "attrs", func(in *s3.GetObjectInput) { in.PartNumber = aws.Int32(1) }); !bytes.Equal(got, body) || out.PartsCount != nil {
		t.Errorf("part 1 of a single-part object: %q, parts count %v", got, out.PartsCount)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("attrs"), PartNumber: aws.Int32(2)}); err == nil {
		t.Error("part 2 of a single-part object was served")
	}
	// The one version is "null"; any other does not exist.
	get(t, c, *b, "attrs", func(in *s3.GetObjectInput) { in.VersionId = aws.String("null") })
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("attrs"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ")}); code(err) != "NoSuchVersion" {
		t.Errorf("GET of another version: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("attrs"), VersionId: aws.String("3HL4kqtJlcpXroDTDmJ")}); !strings.Contains(fmt.Sprint(err), "404") {
		t.Errorf("HEAD of another version: %v", err)
	}
	// Deleting the "null" version deletes the object, and says so.
	d, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("attrs"), VersionId: aws.String("null")}}}})
	if err != nil || len(d.Deleted) != 1 || *d.Deleted[0].VersionId != "null" {
		t.Fatalf("delete the null version: %+v %v", d, err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("attrs")}); err == nil {
		t.Error("the object is still there")
	}
	// Bucket settings nb does not keep: S3's "none" answers.
	if _, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b}); code(err) != "NoSuchCORSConfiguration" {
		t.Errorf("CORS: %v", err)
	}
	if _, err := c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b}); code(err) != "NoSuchWebsiteConfiguration" {
		t.Errorf("website: %v", err)
	}
	if _, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}); code(err) != "NoSuchTagSet" {
		t.Errorf("bucket tags: %v", err)
	}
	if _, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("bucket-two")}); code(err) != "AccessDenied" {
		t.Errorf("another claim's bucket: %v", err)
	}
}

func TestMultipart(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	const part = 5 << 20
	parts := [][]byte{rnd(part, 10), rnd(part, 11), rnd(1234, 12)}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket-one"), Key: aws.String("mp"), ContentType: aws.String("video/mp4")})
	if err != nil {
		t.Fatal(err)
	}
	etags := make([]string, 3)
	upload := func(i int, b []byte) {
		t.Helper()
		o, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket-one"), Key: aws.String("mp"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		etags[i] = *o.ETag
	}
	upload(2, parts[2]) // out of order
	upload(0, rnd(part, 99))
	upload(0, parts[0]) // retried: replaces
	upload(1, parts[1])
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("bucket-one"), Key: aws.String("mp"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 3 || *lp.Parts[0].ETag != etags[0] {
		t.Fatalf("list parts %+v %v", lp, err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("bucket-one")})
	if err != nil || len(lu.Uploads) != 1 || *lu.Uploads[0].UploadId != *cr.UploadId {
		t.Fatalf("list uploads %+v %v", lu, err)
	}
	completed := func(ns ...int) *types.CompletedMultipartUpload {
		var cp []types.CompletedPart
		for _, n := range ns {
			cp = append(cp, types.CompletedPart{PartNumber: aws.Int32(int32(n)), ETag: aws.String(etags[n-1])})
		}
		return &types.CompletedMultipartUpload{Parts: cp}
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket-one"), Key: aws.String("mp"), UploadId: cr.UploadId, MultipartUpload: completed(2, 1, 3)}); code(err) != "InvalidPartOrder" {
		t.Errorf("out of order completion: %v", err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bucket-one"), Key: aws.String("mp"), UploadId: cr.UploadId, MultipartUpload: completed(1, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	var cat []byte
	var sums []byte
	for _, p := range parts {
		cat = append(cat, p...)
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	if want := fmt.Sprintf(`"%s-3"`, md5hex(sums)); *done.ETag != want {
		t.Errorf("etag %s, want %s", *done.ETag, want)
	}
	got, out := get(t, c, "bucket-one", "mp")
	if !bytes.Equal(got, cat) || *out.ContentType != "video/mp4" {
		t.Fatalf("multipart object: equal %v %+v", bytes.Equal(got, cat), out)
	}
	got, out = get(t, c, "bucket-one", "mp", func(in *s3.GetObjectInput) { in.PartNumber = aws.Int32(2) })
	if !bytes.Equal(got, parts[1]) || *out.PartsCount != 3 {
		t.Errorf("part 2 of the object: equal %v", bytes.Equal(got, parts[1]))
	}
	// Abort.
	ab, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bucket-one"), Key: aws.String("aborted")})
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket-one"), Key: aws.String("aborted"), UploadId: ab.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(parts[2])}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("bucket-one"), Key: aws.String("aborted"), UploadId: ab.UploadId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket-one"), Key: aws.String("aborted"), UploadId: ab.UploadId, PartNumber: aws.Int32(2), Body: bytes.NewReader(parts[2])}); code(err) != "NoSuchUpload" {
		t.Errorf("part after abort: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("aborted")}); err == nil {
		t.Errorf("an aborted upload is visible")
	}
}

// A store failing: writes go on degraded, reads come from the survivor;
// with every store down a GET is a 503 and a PUT fails without showing a
// partial object, and a store failing mid-upload leaves the old version.
func TestStoresFailing(t *testing.T) {
	ctx := context.Background()
	c := client(c2Key, c2Secret)
	old := rnd(1<<20, 20)
	put(t, c, "bucket-two", "k", old)
	env.faults["s0"].Set(faulty.Faults{Offline: true})
	defer env.faults["s0"].Set(faulty.Faults{})
	degraded := rnd(2<<20, 21)
	put(t, c, "bucket-two", "deg", degraded)
	if got, _ := get(t, c, "bucket-two", "deg"); !bytes.Equal(got, degraded) {
		t.Errorf("degraded write read back wrong")
	}
	if got, _ := get(t, c, "bucket-two", "k"); !bytes.Equal(got, old) {
		t.Errorf("read with one mirror down")
	}
	env.faults["s1"].Set(faulty.Faults{Offline: true})
	o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("k")})
	if err == nil {
		o.Body.Close()
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("get with every store down: %v, want 503", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("k"), Body: bytes.NewReader(rnd(1<<20, 22))}); err == nil {
		t.Errorf("a put with every store down succeeded")
	}
	env.faults["s0"].Set(faulty.Faults{})
	// Mid-upload: s1 fails after 1.5 MiB, s0 after 2.5 MiB (both mirrors).
	env.faults["s0"].Set(faulty.Faults{FailAfterBytes: 5 << 19})
	env.faults["s1"].Set(faulty.Faults{FailAfterBytes: 3 << 19})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("k"), Body: bytes.NewReader(rnd(4<<20, 23))}); err == nil {
		t.Errorf("a put whose every store failed mid-way succeeded")
	}
	env.faults["s0"].Set(faulty.Faults{})
	env.faults["s1"].Set(faulty.Faults{})
	if got, _ := get(t, c, "bucket-two", "k"); !bytes.Equal(got, old) {
		t.Errorf("the old version did not survive a failed upload")
	}
}

// A file written and uploaded within one second must never be listed as
// older than itself: aws s3 sync would upload it again on every run (seen
// with Debian's awscli 2.9 in CI). S3 times carry whole seconds, so the
// endpoint rounds up; a client sending back the Last-Modified it got in
// If-Modified-Since is told 304 (once that second has passed: versitygw
// ignores a date in the future, and the answer is then the whole object).
func TestLastModifiedIsNeverBeforeTheUpload(t *testing.T) {
	ctx := context.Background()
	c := client(c1Key, c1Secret)
	for i := range 5 {
		key := fmt.Sprintf("stamp/%d", i)
		before := time.Now()
		put(t, c, "bucket-one", key, []byte("x"))
		l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket-one"), Prefix: aws.String(key)})
		if err != nil || len(l.Contents) != 1 {
			t.Fatalf("list %s: %v %+v", key, err, l)
		}
		listed := *l.Contents[0].LastModified
		if listed.Before(before) {
			t.Fatalf("%s listed as modified at %s, before the upload began at %s", key, listed, before)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String(key)})
		if err != nil || !h.LastModified.Equal(listed) {
			t.Fatalf("head %s: %v, Last-Modified %v, listed %s", key, err, h.LastModified, listed)
		}
		time.Sleep(time.Until(listed) + 10*time.Millisecond)
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String(key), IfModifiedSince: h.LastModified})
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 304 {
			t.Fatalf("get %s If-Modified-Since its own Last-Modified: want 304, got %v", key, err)
		}
	}
}

// S3 clients keep their connections: after an upload, a download and a
// 404 the next request goes over the same connection. After an upload
// refused before its body was read, the next requests are answered right:
// the refused body (up to 256 KiB) is read and thrown away first, since
// left in the socket it would be parsed as the start of the next request.
func TestConnectionsAreKeptOpen(t *testing.T) {
	var newConns, reused int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if i.Reused {
			reused++
		} else {
			newConns++
		}
	}})
	c1 := oneConnClient(c1Key, c1Secret)
	body := rnd(1<<20, 41)
	readBack := func() {
		t.Helper()
		out, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("kept")})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		defer out.Body.Close()
		if got, err := io.ReadAll(out.Body); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("read back %d bytes (%v), not the %d put", len(got), err, len(body))
		}
	}
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("kept"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-one"), Key: aws.String("no-such-key")}); code(err) != "NoSuchKey" {
		t.Fatalf("a missing key: %v", err)
	}
	readBack()
	if newConns != 1 || reused != 2 {
		t.Errorf("3 requests used %d new connections and reused one %d times; want 1 and 2", newConns, reused)
	}
	// Whether the client reuses the connection after this one depends on
	// its own timing (Go's transport gives up on a connection whose body
	// write is still going 50 ms after the answer came); when it does, the
	// next answer must be the next request's.
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("kept"), Body: bytes.NewReader(rnd(200<<10, 42))}); code(err) != "AccessDenied" {
		t.Fatalf("a put into another claim's bucket: %v", err)
	}
	for range 3 {
		readBack()
	}
	t.Logf("%d new connections, %d reused", newConns, reused)
}

// A GET whose stores fail after its body started cannot become an S3
// error any more: the connection is broken off, so the client sees a
// short body as an error (never a clean end, never the next response read
// as the rest of this one, which a kept-alive connection would risk), and
// its next request is answered right.
func TestReadFailingMidStream(t *testing.T) {
	ctx := context.Background()
	c := oneConnClient(c2Key, c2Secret)
	body := rnd(24<<20, 43)
	put(t, c, "bucket-two", "midstream", body)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket-two"), Key: aws.String("midstream")})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	first := make([]byte, 1<<20)
	if _, err := io.ReadFull(out.Body, first); err != nil || !bytes.Equal(first, body[:len(first)]) {
		t.Fatalf("the first MiB: %v", err)
	}
	env.faults["s0"].Set(faulty.Faults{Offline: true})
	env.faults["s1"].Set(faulty.Faults{Offline: true})
	rest, err := io.ReadAll(out.Body)
	out.Body.Close()
	env.faults["s0"].Set(faulty.Faults{})
	env.faults["s1"].Set(faulty.Faults{})
	if err == nil {
		t.Fatalf("a body cut short by its stores ended cleanly after %d of %d bytes", len(first)+len(rest), len(body))
	}
	t.Logf("cut short after %d of %d bytes: %v", len(first)+len(rest), len(body), err)
	if !bytes.Equal(rest, body[len(first):len(first)+len(rest)]) {
		t.Errorf("the %d bytes read before the failure are not the object's", len(rest))
	}
	if got, _ := get(t, c, "bucket-two", "midstream"); !bytes.Equal(got, body) {
		t.Errorf("the next GET read back %d bytes, not the object", len(got))
	}
}
