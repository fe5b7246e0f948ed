// Command s3load drives an S3 endpoint for bench/s3.sh with aws-sdk-go-v2
// and prints one JSON line per measurement. No S3 load tool is served by
// the module proxy here (minio/warp is refused), so this is nb's own.
//
//	s3load mb                                 create -bucket
//	s3load big   -size 1073741824 [-file F]   one PUT (transfer manager) then one GET
//	s3load para  -size N -c 4                 c concurrent PUTs, then c concurrent GETs
//	s3load small -n 10000 -c 16 -size 4096    PUT all, GET all, then LIST pages
//	s3load single -size 1073741824            one PutObject (unsigned payload, no
//	                                          checksum: the server's own work), one GetObject
//	s3load hashes                             one core's MD5, SHA-256 and CRC-32C rates
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type opts struct {
	endpoint, key, secret, bucket, file, label string
	size                                       int64
	n, c, partMiB                              int
	getOnly, noGet                             bool
	phases                                     string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: s3load mb|big|para|small [flags]")
		os.Exit(2)
	}
	var o opts
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	fs.StringVar(&o.endpoint, "endpoint", os.Getenv("AWS_ENDPOINT_URL"), "S3 URL")
	fs.StringVar(&o.key, "key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key")
	fs.StringVar(&o.secret, "secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret key")
	fs.StringVar(&o.bucket, "bucket", "", "bucket")
	fs.StringVar(&o.file, "file", "", "upload this file (big)")
	fs.StringVar(&o.label, "label", "", "name printed with the results")
	fs.Int64Var(&o.size, "size", 1<<30, "object size")
	fs.IntVar(&o.n, "n", 10000, "objects (small)")
	fs.IntVar(&o.c, "c", 16, "concurrent clients")
	fs.IntVar(&o.partMiB, "part-mib", 8, "big, para: the transfer manager's part size, MiB")
	fs.BoolVar(&o.getOnly, "get-only", false, "big: read the object a previous run wrote")
	fs.BoolVar(&o.noGet, "no-get", false, "big: only write")
	fs.StringVar(&o.phases, "phases", "put,get,list", "small: the phases to run, in this order")
	_ = fs.Parse(os.Args[2:])
	client := s3.New(s3.Options{BaseEndpoint: aws.String(o.endpoint), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(o.key, o.secret, ""),
		HTTPClient:  httpClient(o.c)})
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "mb":
		_, err = client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &o.bucket})
	case "big":
		err = big(ctx, client, o)
	case "para":
		err = para(ctx, client, o)
	case "small":
		err = small(ctx, client, o)
	case "single":
		err = single(ctx, o)
	case "hashes":
		hashes(o)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3load:", err)
		os.Exit(1)
	}
}

func report(label, what string, v float64, unit string) {
	raw, _ := json.Marshal(map[string]any{"label": label, "what": what, "value": v, "unit": unit})
	fmt.Println(string(raw))
}

// discardAt is a WriterAt that throws the bytes away (a GET measured
// without a disk on the client side).
type discardAt struct{ n atomic.Int64 }

func (d *discardAt) WriteAt(p []byte, _ int64) (int, error) {
	d.n.Add(int64(len(p)))
	return len(p), nil
}

func manager(c *s3.Client, partMiB int) *transfermanager.Client {
	return transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes = int64(partMiB) << 20
		o.Concurrency = 4
	})
}

func body(o opts, seed uint64) (io.Reader, func(), error) {
	if o.file != "" {
		f, err := os.Open(o.file)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), o.size), func() {}, nil
}

func big(ctx context.Context, c *s3.Client, o opts) error {
	tm := manager(c, o.partMiB)
	r, done, err := body(o, 1)
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	if !o.getOnly {
		if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &o.bucket, Key: aws.String("big"), Body: r}); err != nil {
			return err
		}
		report(o.label, "put", float64(o.size)/time.Since(start).Seconds()/1e6, "MB/s")
	}
	if o.noGet {
		return nil
	}
	start = time.Now()
	d := &discardAt{}
	if _, err := tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: &o.bucket, Key: aws.String("big"), WriterAt: d}); err != nil {
		return err
	}
	if d.n.Load() != o.size {
		return fmt.Errorf("downloaded %d bytes of %d", d.n.Load(), o.size)
	}
	report(o.label, "get", float64(o.size)/time.Since(start).Seconds()/1e6, "MB/s")
	return nil
}

// httpClient is the SDK's default client keeping an idle connection for
// each of c concurrent clients (the default keeps 10 per host), so that
// against a server that keeps connections open, none of 16 clients pays
// a new TCP connection per request. (The churn measured before, 11,241
// sockets in TIME_WAIT after 20,000 requests, was the servers closing
// theirs: docs/benchmarks.md.)
func httpClient(c int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(c, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	})
}

// single is one PutObject and one GetObject of one stream each, with the
// client doing as little as it can (the payload unsigned, no request
// checksum, the body in memory), so that what bounds them is the
// server's single-stream path: the ETag's MD5, a CRC-32C per block, the
// writes; on the way back the reads, their CRC-32C checks and the socket.
func single(ctx context.Context, o opts) error {
	c := s3.New(s3.Options{BaseEndpoint: aws.String(o.endpoint), UsePathStyle: true, Region: "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(o.key, o.secret, ""),
		HTTPClient:                 httpClient(1),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	if !o.getOnly {
		payload := make([]byte, o.size)
		if _, err := io.ReadFull(rand.NewChaCha8([32]byte{7}), payload); err != nil {
			return err
		}
		start := time.Now()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &o.bucket, Key: aws.String("single"), Body: bytes.NewReader(payload), ContentLength: aws.Int64(o.size)},
			s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)); err != nil {
			return err
		}
		report(o.label, "put", float64(o.size)/time.Since(start).Seconds()/1e6, "MB/s")
	}
	if o.noGet {
		return nil
	}
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.bucket, Key: aws.String("single")})
	if err != nil {
		return err
	}
	// Large reads: io.Discard's ReadFrom reads 8 KiB at a time, which made
	// the client the GET's bottleneck.
	var n int64
	buf := make([]byte, 1<<20)
	for err == nil {
		var m int
		m, err = out.Body.Read(buf)
		n += int64(m)
	}
	if err == io.EOF {
		err = nil
	}
	out.Body.Close()
	if err != nil {
		return err
	}
	if n != o.size {
		return fmt.Errorf("got %d bytes of %d", n, o.size)
	}
	report(o.label, "get", float64(o.size)/time.Since(start).Seconds()/1e6, "MB/s")
	return nil
}

// hashes reports one core's rate for each hash a PUT or GET computes, on
// 4 MiB writes of 1 GiB in memory.
func hashes(o opts) {
	buf := make([]byte, 4<<20)
	_, _ = io.ReadFull(rand.NewChaCha8([32]byte{1}), buf)
	for _, h := range []struct {
		name string
		h    hash.Hash
	}{{"md5", md5.New()}, {"sha256", sha256.New()}, {"crc32c", crc32.New(crc32.MakeTable(crc32.Castagnoli))}} {
		start := time.Now()
		for range 256 {
			h.h.Write(buf)
		}
		report(o.label, h.name, float64(256*len(buf))/time.Since(start).Seconds()/1e6, "MB/s")
	}
}

func para(ctx context.Context, c *s3.Client, o opts) error {
	tm := manager(c, o.partMiB)
	run := func(fn func(i int) error) error {
		var wg sync.WaitGroup
		errs := make(chan error, o.c)
		for i := 0; i < o.c; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(i); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	start := time.Now()
	err := run(func(i int) error {
		r, done, err := body(o, uint64(i))
		if err != nil {
			return err
		}
		defer done()
		_, err = tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: &o.bucket, Key: aws.String(fmt.Sprintf("para/%d", i)), Body: r})
		return err
	})
	if err != nil {
		return err
	}
	report(o.label, fmt.Sprintf("put x%d", o.c), float64(o.size)*float64(o.c)/time.Since(start).Seconds()/1e6, "MB/s")
	start = time.Now()
	err = run(func(i int) error {
		_, err := tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{Bucket: &o.bucket, Key: aws.String(fmt.Sprintf("para/%d", i)), WriterAt: &discardAt{}})
		return err
	})
	if err != nil {
		return err
	}
	report(o.label, fmt.Sprintf("get x%d", o.c), float64(o.size)*float64(o.c)/time.Since(start).Seconds()/1e6, "MB/s")
	return nil
}

func small(ctx context.Context, c *s3.Client, o opts) error {
	payload := make([]byte, o.size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	phase := func(what string, ops int, fn func(i int) error) error {
		if !strings.Contains(o.phases, strings.Fields(what)[0]) {
			return nil
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		var firstErr atomic.Value
		start := time.Now()
		for w := 0; w < o.c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= ops || firstErr.Load() != nil {
						return
					}
					if err := fn(i); err != nil {
						firstErr.Store(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := firstErr.Load().(error); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		report(o.label, what, float64(ops)/time.Since(start).Seconds(), "ops/s")
		return nil
	}
	key := func(i int) *string { return aws.String(fmt.Sprintf("small/%02d/%06d", i%100, i)) }
	if err := phase("put 4k", o.n, func(i int) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &o.bucket, Key: key(i), Body: bytes.NewReader(payload)})
		return err
	}); err != nil {
		return err
	}
	if err := phase("get 4k", o.n, func(i int) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &o.bucket, Key: key(i)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		n, err := io.Copy(io.Discard, out.Body)
		if err == nil && n != o.size {
			err = fmt.Errorf("%d bytes", n)
		}
		return err
	}); err != nil {
		return err
	}
	// A LIST is one page of 100 keys under one of the 100 prefixes.
	return phase("list 100", o.n/10, func(i int) error {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &o.bucket, Prefix: aws.String(fmt.Sprintf("small/%02d/", i%100)), MaxKeys: aws.Int32(100)})
		if err == nil && len(out.Contents) == 0 {
			err = fmt.Errorf("empty page")
		}
		return err
	})
}
