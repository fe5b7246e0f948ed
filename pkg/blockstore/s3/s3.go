// Package s3 is a block store in a bucket of any S3-compatible endpoint
// (AWS S3, IBM COS, Ceph RGW, MinIO, NooBaa itself), through aws-sdk-go-v2:
// blocks are objects under a prefix of the target bucket.
package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/nbctl/nb/pkg/blockstore"
)

// Config says where the blocks go and how to sign.
type Config struct {
	Name string
	// Endpoint is the S3 URL; empty means AWS (by Region).
	Endpoint  string
	Region    string
	Bucket    string
	Prefix    string
	AccessKey string
	SecretKey string
	// PathStyle addresses buckets as /bucket/key (most non-AWS servers).
	PathStyle bool
	// SignatureVersion is "v4" (or empty). aws-sdk-go-v2 signs only v4.
	SignatureVersion string
	// CABundle is PEM certificates to trust in addition to the system's.
	CABundle []byte
	// InsecureSkipVerify turns TLS verification off.
	InsecureSkipVerify bool
	// Timeout bounds each request (default 30s; negative: none, for
	// streams of any length).
	Timeout time.Duration
}

// Store is a bucket prefix.
type Store struct {
	cfg    Config
	client *s3.Client
}

// Causes that the operator reports as modes: a missing bucket is
// STORAGE_NOT_EXIST, refused credentials AUTH_FAILED. Both are classed
// blockstore.ErrPermanent.
var (
	ErrNoBucket = errors.New("bucket does not exist")
	ErrAuth     = errors.New("credentials refused")
)

// ErrSignatureV2 is returned for stores that require AWS signature v2.
var ErrSignatureV2 = errors.New("signature version v2 is not supported by nb's data path (aws-sdk-go-v2 signs v4 only); use v4")

// New builds the client; it makes no request.
func New(cfg Config) (*Store, error) {
	if cfg.SignatureVersion != "" && cfg.SignatureVersion != "v4" {
		return nil, fmt.Errorf("s3 store %s: %w", cfg.Name, ErrSignatureV2)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // the user asked for it
	if len(cfg.CABundle) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(cfg.CABundle) {
			return nil, fmt.Errorf("s3 store %s: the CA bundle holds no PEM certificate", cfg.Name)
		}
		tlsCfg.RootCAs = pool
	}
	timeout := cfg.Timeout
	if timeout < 0 {
		timeout = 0
	}
	httpClient := awshttp.NewBuildableClient().WithTimeout(timeout).WithTransportOptions(func(t *http.Transport) {
		t.TLSClientConfig = tlsCfg
		t.MaxIdleConnsPerHost = 32
	})
	opts := s3.Options{
		Region:       cfg.Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")),
		UsePathStyle: cfg.PathStyle,
		HTTPClient:   httpClient,
		// Retries are the placement layer's business: it reads another
		// copy instead of waiting on a dead store.
		RetryMaxAttempts: 2,
	}
	if cfg.Endpoint != "" {
		ep := cfg.Endpoint
		if !strings.Contains(ep, "://") {
			ep = "https://" + ep
		}
		opts.BaseEndpoint = aws.String(ep)
	}
	return &Store{cfg: cfg, client: s3.New(opts)}, nil
}

// Name implements blockstore.Store.
func (s *Store) Name() string { return s.cfg.Name }

// Client returns the S3 client (tests, bucket checks).
func (s *Store) Client() *s3.Client { return s.client }

func (s *Store) objectKey(key string) string { return s.cfg.Prefix + key }

// Code returns the S3 error code of err ("NoSuchBucket",
// "InvalidAccessKeyId", ...), or "".
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (s *Store) classify(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code := Code(err)
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch {
	case code == "NoSuchKey" || code == "NotFound" && status == 404:
		return blockstore.Errorf(blockstore.ErrNotFound, s.cfg.Name, op, key, nil)
	case code == "NoSuchBucket":
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, op, key, fmt.Errorf("%w: %q: %w", ErrNoBucket, s.cfg.Bucket, err))
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied" || status == 403:
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, op, key, fmt.Errorf("%w: %w", ErrAuth, err))
	case code == "EntityTooLarge" || code == "QuotaExceeded":
		return blockstore.Errorf(blockstore.ErrNoSpace, s.cfg.Name, op, key, err)
	case status >= 400 && status < 500 && status != 408 && status != 429:
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, op, key, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || status >= 500 || status == 408 || status == 429 || status == 0 {
		return blockstore.Errorf(blockstore.ErrUnavailable, s.cfg.Name, op, key, err)
	}
	return blockstore.Errorf(blockstore.ErrUnavailable, s.cfg.Name, op, key, err)
}

// Put implements blockstore.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, "put", key, err)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.objectKey(key)),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	return s.classify("put", key, err)
}

// Get implements blockstore.Store.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blockstore.ValidKey(key); err != nil {
		return nil, blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, "get", key, err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return nil, s.classify("get", key, err)
	}
	defer out.Body.Close()
	buf := bytes.NewBuffer(make([]byte, 0, aws.ToInt64(out.ContentLength)))
	if _, err := io.Copy(buf, out.Body); err != nil {
		return nil, s.classify("get", key, err)
	}
	if n := aws.ToInt64(out.ContentLength); n > 0 && int64(buf.Len()) != n {
		return nil, blockstore.Errorf(blockstore.ErrUnavailable, s.cfg.Name, "get", key, fmt.Errorf("short read: %d of %d bytes", buf.Len(), n))
	}
	return buf.Bytes(), nil
}

// Stat implements blockstore.Store.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	if err := blockstore.ValidKey(key); err != nil {
		return 0, blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, "stat", key, err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return 0, s.classify("stat", key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Delete implements blockstore.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blockstore.ValidKey(key); err != nil {
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, "delete", key, err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.objectKey(key))})
	if err = s.classify("delete", key, err); blockstore.IsNotFound(err) {
		return nil
	}
	return err
}

// List implements blockstore.Store.
func (s *Store) List(ctx context.Context, prefix string, fn func(string) error) error {
	_, err := s.walk(ctx, prefix, fn)
	return err
}

func (s *Store) walk(ctx context.Context, prefix string, fn func(string) error) (int64, error) {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.objectKey(prefix)),
	})
	var total int64
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, s.classify("list", prefix, err)
		}
		for _, o := range page.Contents {
			total += aws.ToInt64(o.Size)
			if fn != nil {
				if err := fn(strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix)); err != nil {
					return 0, err
				}
			}
		}
	}
	return total, nil
}

// Capacity implements blockstore.Store: S3 has no total; Used is what the
// prefix holds (one listing).
func (s *Store) Capacity(ctx context.Context) (blockstore.Capacity, error) {
	used, err := s.walk(ctx, "", nil)
	return blockstore.Capacity{Used: used}, err
}

// CheckBucket verifies that the credentials work and the bucket exists,
// as the operator's connection check does.
func (s *Store) CheckBucket(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	if Code(err) == "NotFound" || Code(err) == "NoSuchBucket" {
		return blockstore.Errorf(blockstore.ErrPermanent, s.cfg.Name, "head-bucket", s.cfg.Bucket, fmt.Errorf("%w: %q", ErrNoBucket, s.cfg.Bucket))
	}
	return s.classify("head-bucket", s.cfg.Bucket, err)
}

// What an S3 store is, checked by the compiler.
var _ blockstore.Store = (*Store)(nil)
