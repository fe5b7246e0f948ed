package gateway

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CORS, website and ownership controls are kept and used: CORS answers a
// browser's preflight.
func TestBucketSettings(t *testing.T) {
	ctx := context.Background()
	owner := client(c1Key, c1Secret)
	b := aws.String("bucket-one")
	put(t, owner, *b, "shared/doc", []byte("for c2"))
	if _, err := owner.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}); code(err) != "NoSuchBucketPolicy" {
		t.Errorf("no policy: %v", err)
	}

	// CORS: kept, and the gateway answers a preflight from it.
	if _, err := owner.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
		AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"https://app.example"}, AllowedHeaders: []string{"*"}}}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := owner.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b}); err != nil || len(got.CORSRules) != 1 || got.CORSRules[0].AllowedOrigins[0] != "https://app.example" {
		t.Errorf("CORS read back: %+v %v", got, err)
	}
	req, _ := http.NewRequest(http.MethodOptions, env.url+"/bucket-one/shared/doc", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight: %d, allow-origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if _, err := owner.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b}); code(err) != "NoSuchCORSConfiguration" {
		t.Errorf("after DeleteBucketCors: %v", err)
	}

	// Website and ownership controls: kept as given.
	if _, err := owner.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: b, WebsiteConfiguration: &types.WebsiteConfiguration{IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := owner.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: b}); err != nil || got.IndexDocument == nil || *got.IndexDocument.Suffix != "index.html" {
		t.Errorf("website read back: %+v %v", got, err)
	}
	if _, err := owner.DeleteBucketWebsite(ctx, &s3.DeleteBucketWebsiteInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if got, err := owner.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b}); err != nil || got.OwnershipControls.Rules[0].ObjectOwnership != types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("default ownership: %+v %v", got, err)
	}
	if _, err := owner.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b}); code(err) != "OwnershipControlsNotFoundError" {
		t.Errorf("after DeleteBucketOwnershipControls: %v", err)
	}
	if _, err := owner.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}}); err != nil {
		t.Fatal(err)
	}
}
