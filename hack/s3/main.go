// Command s3 is the smallest S3 client the walk-through needs where the
// AWS CLI is not installed (make demo): ls and cp, with the settings the
// AWS CLI reads (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY), over aws-sdk-go-v2.
//
//	s3 ls [s3://BUCKET[/PREFIX]]
//	s3 cp FILE s3://BUCKET/KEY
//	s3 cp s3://BUCKET/KEY FILE
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "s3:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		return errors.New("set AWS_ENDPOINT_URL (eval \"$(nb obc status CLAIM -o env --show-secrets)\")")
	}
	client := s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), "")})
	switch {
	case len(args) >= 1 && args[0] == "ls":
		if len(args) == 1 {
			out, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil {
				return err
			}
			for _, b := range out.Buckets {
				fmt.Printf("%s %s\n", b.CreationDate.Format("2006-01-02 15:04:05"), *b.Name)
			}
			return nil
		}
		bucket, prefix, err := s3URL(args[1])
		if err != nil {
			return err
		}
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				fmt.Printf("%s %10d %s\n", o.LastModified.Format("2006-01-02 15:04:05"), *o.Size, *o.Key)
			}
		}
		return nil
	case len(args) == 3 && args[0] == "cp":
		tm := transfermanager.New(client)
		if strings.HasPrefix(args[2], "s3://") {
			bucket, key, err := s3URL(args[2])
			if err != nil {
				return err
			}
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &bucket, Key: &key, Body: f})
			if err == nil {
				fmt.Printf("upload: %s to %s\n", args[1], args[2])
			}
			return err
		}
		bucket, key, err := s3URL(args[1])
		if err != nil {
			return err
		}
		f, err := os.Create(args[2])
		if err != nil {
			return err
		}
		_, err = tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: &bucket, Key: &key, WriterAt: f})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(args[2])
			return err
		}
		fmt.Printf("download: %s to %s\n", args[1], args[2])
		return nil
	}
	return errors.New("usage: s3 ls [s3://BUCKET[/PREFIX]] | s3 cp FILE s3://BUCKET/KEY | s3 cp s3://BUCKET/KEY FILE")
}

func s3URL(u string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("%q is not s3://BUCKET[/KEY]", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, nil
}
