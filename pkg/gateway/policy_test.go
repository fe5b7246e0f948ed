package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A bucket policy grants other accounts, or anyone, what it says; the
// owner keeps its own bucket beside it, and an explicit Deny wins.
func TestBucketPolicy(t *testing.T) {
	ctx := context.Background()
	owner, other := client(c1Key, c1Secret), client(c2Key, c2Secret)
	b := aws.String("bucket-one")
	put(t, owner, *b, "shared/doc", []byte("for c2"))
	put(t, owner, *b, "public/page", []byte("for anyone"))
	put(t, owner, *b, "private/x", []byte("owner only"))
	put(t, owner, *b, "keep/x", []byte("never deleted"))
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":["` + c2Key + `"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-one/shared/*"},` +
		`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket-one/public/*"},` +
		`{"Effect":"Deny","Principal":{"AWS":["` + c1Key + `"]},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bucket-one/keep/*"}]}`
	if _, err := other.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(policy)}); code(err) != "AccessDenied" {
		t.Fatalf("another account put a policy on the bucket: %v", err)
	}
	if _, err := owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client(adminKey, adminSecret).DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b})
	})
	if got, err := owner.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); err != nil || *got.Policy != policy {
		t.Errorf("policy read back: %v %v", got, err)
	}
	if st, err := owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b}); err != nil || !*st.PolicyStatus.IsPublic {
		t.Errorf("policy status: %+v %v", st, err)
	}

	// The owner keeps everything the policy does not deny.
	if got, _ := get(t, owner, *b, "private/x"); string(got) != "owner only" {
		t.Errorf("owner read %q", got)
	}
	put(t, owner, *b, "private/y", []byte("still writes"))
	if _, err := owner.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); err != nil {
		t.Errorf("owner lists: %v", err)
	}
	if _, err := owner.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("private/y")}); err != nil {
		t.Errorf("owner deletes: %v", err)
	}
	if _, err := owner.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("keep/x")}); code(err) != "AccessDenied" {
		t.Errorf("delete the policy denies: %v", err)
	}

	// The other account gets what it is granted, and nothing else.
	if got, _ := get(t, other, *b, "shared/doc"); string(got) != "for c2" {
		t.Errorf("granted read %q", got)
	}
	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("private/x")}); code(err) != "AccessDenied" {
		t.Errorf("read outside the grant: %v", err)
	}
	if _, err := other.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("shared/new"), Body: strings.NewReader("x")}); code(err) != "AccessDenied" {
		t.Errorf("write outside the grant: %v", err)
	}
	if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); code(err) != "AccessDenied" {
		t.Errorf("list outside the grant: %v", err)
	}
	if lb, err := other.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "bucket-two" {
		t.Errorf("the other account lists %v, %v", lb, err)
	}

	// Anyone, unsigned: only what "*" is granted.
	anon := func(path string) (int, string) {
		resp, err := http.Get(env.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := anon("/bucket-one/public/page"); st != 200 || body != "for anyone" {
		t.Errorf("anonymous read of a public object: %d %q", st, body)
	}
	if st, _ := anon("/bucket-one/shared/doc"); st != 403 {
		t.Errorf("anonymous read of a granted-to-c2 object: %d", st)
	}
	if st, _ := anon("/bucket-two/x"); st != 403 {
		t.Errorf("anonymous read of a bucket without a policy: %d", st)
	}

	// Gone with DeleteBucketPolicy.
	if _, err := owner.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); code(err) != "NoSuchBucketPolicy" {
		t.Errorf("after DeleteBucketPolicy: %v", err)
	}
	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("shared/doc")}); code(err) != "AccessDenied" {
		t.Errorf("read after the policy is gone: %v", err)
	}
	if st, _ := anon("/bucket-one/public/page"); st != 403 {
		t.Errorf("anonymous read after the policy is gone: %d", st)
	}
	if _, err := owner.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("keep/x")}); err != nil {
		t.Errorf("delete after the policy is gone: %v", err)
	}
}

// A bucket the admin made is shared with a claim's key by a policy; the
// claim still lists only its own bucket.
func TestAdminBucketSharedByPolicy(t *testing.T) {
	ctx := context.Background()
	admin, c1 := client(adminKey, adminSecret), client(c1Key, c1Secret)
	b := aws.String("team-shared")
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("from-c1")})
		_, _ = admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b})
		_, _ = admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
	})
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("from-c1"), Body: strings.NewReader("x")}); code(err) != "AccessDenied" {
		t.Fatalf("a claim wrote to the admin's bucket without a policy: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + c1Key + `"]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::team-shared/*"}]}`
	if _, err := admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	put(t, c1, *b, "from-c1", []byte("shared"))
	if got, _ := get(t, admin, *b, "from-c1"); string(got) != "shared" {
		t.Errorf("admin reads %q", got)
	}
	if _, err := c1.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("from-c1")}); code(err) != "AccessDenied" {
		t.Errorf("delete outside the grant: %v", err)
	}
	if lb, err := c1.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "bucket-one" {
		t.Errorf("claim lists %v, %v", lb, err)
	}
}
