// Package gateway is the S3 endpoint of nb's local target: versitygw's
// embedded gateway (embedgw) speaks the protocol (SigV4 in every form,
// chunked bodies, Content-MD5 and trailing checksums, error XML), and this
// package answers it with nb's own parts: a versitygw backend.Backend over
// the data path (package placement) and an identity service (Accounts)
// holding the key pairs of the bound claims and NooBaa's admin.
//
// No S3 request is parsed or signed here; what is here is what S3 means:
// which account sees which bucket, object attributes and ETags,
// conditional requests, ranges, listings, multipart uploads composed from
// their parts without copying, and errors in S3's own codes.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/placement"
)

// Backend is nb's versitygw backend: S3 operations on the data path.
// Methods it does not implement answer NotImplemented.
type Backend struct {
	backend.BackendUnsupported
	// Engine holds the metadata (shared by every namespace's engine) and
	// is the data path when EngineFor is nil.
	Engine *placement.Engine
	// EngineFor returns the data path over a NooBaa namespace's stores.
	EngineFor func(ns string) (*placement.Engine, error)
	Accounts  *Accounts
	// NewBucket gives the policy (and bucket class) of a bucket the admin
	// creates over S3: the default bucket class's.
	NewBucket func(ctx context.Context) (placement.Bucket, error)
	// ClaimOf names the claim that owns a bucket ("" for none): such a
	// bucket is deleted with its claim, never over S3.
	ClaimOf func(bucket string) string
	// Base outlives requests: what streams a GET body after the request's
	// handler returned (the request's context must not be kept).
	Base context.Context
	// Logf reports what a client cannot be told (a read that failed
	// mid-body).
	Logf func(format string, args ...any)
	// Busy, when set, counts the data-moving requests in flight.
	Busy *Busy

	// acls holds GetBucketAcl's answer by owner (it depends on nothing
	// else, and versitygw asks for it on every request it authorizes).
	aclMu sync.Mutex
	acls  map[string][]byte
}

var _ backend.Backend = (*Backend)(nil)

// ctx is the context of the engine's work for a request. It is never
// the request's own (a *fasthttp.RequestCtx, reused after the request, its
// Done racing with the server's shutdown): a client that goes away shows
// as a body that fails to read, and the server's end cancels Base.
func (b *Backend) ctx() context.Context {
	if b.Base == nil {
		return context.Background()
	}
	return b.Base
}

// String implements backend.Backend.
func (b *Backend) String() string { return "nb" }

func (b *Backend) logf(format string, args ...any) {
	if b.Logf != nil {
		b.Logf(format, args...)
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// clone copies a string the gateway handed in: its bytes live in request
// buffers that the HTTP server reuses.
func clone(p *string) string { return strings.Clone(str(p)) }

func ptr[T any](v T) *T { return &v }

// bucket returns a bucket's record, or S3's NoSuchBucket.
func (b *Backend) bucket(name string) (placement.Bucket, error) {
	rec, err := b.Engine.Meta.Bucket(name)
	if errors.Is(err, placement.ErrNoBucket) {
		return rec, s3err.GetBucketErr(s3err.ErrNoSuchBucket, name)
	}
	return rec, err
}

// DefaultNamespace is the NooBaa namespace of buckets whose record names
// none (claims' buckets made before records carried it).
const DefaultNamespace = "noobaa"

// data returns the data path of a bucket's namespace.
func (b *Backend) data(rec placement.Bucket) (*placement.Engine, error) {
	if b.EngineFor == nil {
		return b.Engine, nil
	}
	ns := rec.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return b.EngineFor(ns)
}

// keyIn returns the record of the bucket a request names with a key,
// checking both.
func (b *Backend) keyIn(bucket, key string) (placement.Bucket, error) {
	rec, err := b.bucket(bucket)
	if err != nil {
		return rec, err
	}
	return rec, checkKey(key)
}

// owner is the access key that owns a bucket: its claim's, else its
// creator's, else the admin's.
func (b *Backend) owner(rec placement.Bucket) string {
	if k, ok := b.Accounts.ClaimOwner(rec.Name); ok {
		return k
	}
	if rec.Owner != "" {
		return rec.Owner
	}
	return b.Accounts.Admin()
}

// ListBuckets implements backend.Backend: an account sees its own bucket,
// the admin every bucket.
func (b *Backend) ListBuckets(_ context.Context, in s3response.ListBucketsInput) (s3response.ListAllMyBucketsResult, error) {
	recs, err := b.Engine.Meta.Buckets()
	if err != nil {
		return s3response.ListAllMyBucketsResult{}, err
	}
	out := s3response.ListAllMyBucketsResult{Owner: s3response.CanonicalUser{ID: in.Owner}, Prefix: in.Prefix}
	max := int(in.MaxBuckets)
	for _, rec := range recs {
		if !in.IsAdmin && b.owner(rec) != in.Owner {
			continue
		}
		if !strings.HasPrefix(rec.Name, in.Prefix) || (in.ContinuationToken != "" && rec.Name <= in.ContinuationToken) {
			continue
		}
		if max > 0 && len(out.Buckets.Bucket) == max {
			out.ContinuationToken = out.Buckets.Bucket[max-1].Name
			break
		}
		out.Buckets.Bucket = append(out.Buckets.Bucket, s3response.ListAllMyBucketsEntry{Name: rec.Name, CreationDate: modified(rec.Created), BucketRegion: Region})
	}
	return out, nil
}

// ListBucketsAndOwners implements backend.Backend (the admin API).
func (b *Backend) ListBucketsAndOwners(context.Context) ([]s3response.Bucket, error) {
	recs, err := b.Engine.Meta.Buckets()
	if err != nil {
		return nil, err
	}
	out := make([]s3response.Bucket, 0, len(recs))
	for _, rec := range recs {
		out = append(out, s3response.Bucket{Name: rec.Name, Owner: b.owner(rec)})
	}
	return out, nil
}

// Region is the endpoint's region, as a claim's BUCKET_REGION says.
const Region = "us-east-1"

// HeadBucket implements backend.Backend.
func (b *Backend) HeadBucket(_ context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	if _, err := b.bucket(str(in.Bucket)); err != nil {
		return nil, err
	}
	return &s3.HeadBucketOutput{BucketRegion: ptr(Region)}, nil
}

// GetBucketAcl implements backend.Backend. It is the gateway's
// authorization source: the owner has full control, nobody else any.
func (b *Backend) GetBucketAcl(_ context.Context, in *s3.GetBucketAclInput) ([]byte, error) {
	rec, err := b.bucket(str(in.Bucket))
	if err != nil {
		return nil, err
	}
	return b.ownerACL(b.owner(rec))
}

// ownerACL is the ACL of a bucket only its owner may use. versitygw only
// reads what it is given (it unmarshals it), so one copy is shared.
func (b *Backend) ownerACL(owner string) ([]byte, error) {
	b.aclMu.Lock()
	defer b.aclMu.Unlock()
	if v, ok := b.acls[owner]; ok {
		return v, nil
	}
	v, err := json.Marshal(auth.ACL{Owner: owner, Grantees: []auth.Grantee{{Permission: auth.PermissionFullControl, Access: owner, Type: types.TypeCanonicalUser}}})
	if err != nil {
		return nil, err
	}
	if b.acls == nil || len(b.acls) >= 1024 { // owners are claims' keys and the admin's
		b.acls = map[string][]byte{}
	}
	b.acls[owner] = v
	return v, nil
}

// GetObjectLockConfiguration implements backend.Backend: no object lock.
func (b *Backend) GetObjectLockConfiguration(_ context.Context, bucket string) ([]byte, error) {
	if _, err := b.bucket(bucket); err != nil {
		return nil, err
	}
	return nil, s3err.GetAPIError(s3err.ErrObjectLockConfigurationNotFound)
}

// GetBucketTagging implements backend.Backend: the bucket's tag set, or
// S3's NoSuchTagSet when it has none.
func (b *Backend) GetBucketTagging(_ context.Context, bucket string) (map[string]string, error) {
	tags, err := b.Engine.Meta.BucketTags(clone(&bucket))
	if errors.Is(err, placement.ErrNoBucket) {
		return nil, s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, s3err.GetAPIError(s3err.ErrBucketTaggingNotFound)
	}
	return tags, nil
}

// PutBucketTagging implements backend.Backend: the tag set replaces the
// bucket's (the gateway has checked it and S3's limit of 50).
func (b *Backend) PutBucketTagging(_ context.Context, bucket string, tags map[string]string) error {
	own := make(map[string]string, len(tags))
	for k, v := range tags {
		own[clone(&k)] = clone(&v)
	}
	err := b.Engine.Meta.SetBucketTags(clone(&bucket), own)
	if errors.Is(err, placement.ErrNoBucket) {
		return s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	return err
}

// DeleteBucketTagging implements backend.Backend.
func (b *Backend) DeleteBucketTagging(ctx context.Context, bucket string) error {
	return b.PutBucketTagging(ctx, bucket, nil)
}

// GetBucketVersioning implements backend.Backend: buckets are
// unversioned (the answer S3 gives for a bucket never versioned).
func (b *Backend) GetBucketVersioning(_ context.Context, bucket string) (s3response.GetBucketVersioningOutput, error) {
	if _, err := b.bucket(bucket); err != nil {
		return s3response.GetBucketVersioningOutput{}, err
	}
	return s3response.GetBucketVersioningOutput{}, nil
}

// CreateBucket implements backend.Backend. Only the admin gets here (the
// gateway refuses claim accounts); the bucket lives on the default bucket
// class.
func (b *Backend) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, defaultACL []byte) error {
	name := clone(in.Bucket)
	acl, err := auth.ParseACL(defaultACL)
	if err != nil {
		return err
	}
	var tags map[string]string
	if in.CreateBucketConfiguration != nil {
		parsed, err := backend.ParseCreateBucketTags(in.CreateBucketConfiguration.Tags)
		if err != nil {
			return err
		}
		tags = make(map[string]string, len(parsed))
		for k, v := range parsed {
			tags[clone(&k)] = clone(&v)
		}
	}
	if rec, err := b.Engine.Meta.Bucket(name); err == nil {
		if b.owner(rec) == acl.Owner {
			return s3err.GetAPIError(s3err.ErrBucketAlreadyOwnedByYou)
		}
		return s3err.GetAPIError(s3err.ErrBucketAlreadyExists)
	}
	if b.NewBucket == nil {
		return s3err.GetAPIError(s3err.ErrNotImplemented)
	}
	rec, err := b.NewBucket(b.ctx())
	if err != nil {
		return s3err.APIError{Code: "InvalidBucketState", Description: err.Error(), HTTPStatusCode: 409}
	}
	rec.Name, rec.Owner, rec.Created = name, acl.Owner, time.Now().UTC()
	err = b.Engine.Meta.CreateBucket(rec, tags)
	if errors.Is(err, placement.ErrBucketExists) {
		return s3err.GetAPIError(s3err.ErrBucketAlreadyExists)
	}
	return err
}

// DeleteBucket implements backend.Backend: an empty bucket created over
// S3. A claim's bucket goes with its claim.
func (b *Backend) DeleteBucket(ctx context.Context, name string) error {
	rec, err := b.bucket(name)
	if err != nil {
		return err
	}
	if b.ClaimOf != nil {
		if claim := b.ClaimOf(name); claim != "" {
			return s3err.APIError{Code: "AccessDenied", HTTPStatusCode: 403,
				Description: fmt.Sprintf("bucket %s belongs to ObjectBucketClaim %s: delete the claim instead (nb obc delete)", name, claim)}
		}
	}
	eng, err := b.data(rec)
	if err != nil {
		return err
	}
	// Uploads in progress go with the bucket, as on S3.
	if err := eng.DeleteEmptyBucket(b.ctx(), name); errors.Is(err, placement.ErrBucketNotEmpty) {
		return s3err.GetAPIError(s3err.ErrBucketNotEmpty)
	} else if err != nil && !errors.Is(err, placement.ErrNoBucket) {
		return err
	}
	return nil
}

// s3Error turns a data-path error into the S3 error a client can act on.
func s3Error(err error) error {
	var se s3err.S3Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case errors.Is(err, placement.ErrNoObject):
		return s3err.GetAPIError(s3err.ErrNoSuchKey)
	case errors.Is(err, placement.ErrNoUpload):
		return s3err.GetAPIError(s3err.ErrNoSuchUpload)
	case errors.Is(err, placement.ErrPartOrder):
		return s3err.GetAPIError(s3err.ErrInvalidPartOrder)
	case errors.Is(err, placement.ErrPartTooSmall):
		return s3err.GetAPIError(s3err.ErrEntityTooSmall)
	case errors.Is(err, placement.ErrInvalidPart):
		return s3err.GetAPIError(s3err.ErrInvalidPart)
	case errors.Is(err, placement.ErrNoStore), errors.Is(err, placement.ErrUnreadable), errors.Is(err, blockstore.ErrUnavailable):
		return s3err.APIError{Code: "ServiceUnavailable", HTTPStatusCode: 503,
			Description: "the data's stores cannot be reached now: " + err.Error()}
	case errors.Is(err, blockstore.ErrNoSpace):
		return s3err.GetAPIError(s3err.ErrNoSpaceLeftOnDevice)
	}
	return err
}

// sortedKeys lists a map's keys in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
