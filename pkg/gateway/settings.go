package gateway

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"

	"github.com/nbctl/nb/pkg/placement"
)

// Bucket settings S3 keeps as documents the gateway checks and uses: CORS
// (it answers preflights and adds the headers), website, and ownership
// controls. nb keeps each as given, beside the bucket's record; a bucket
// without one answers S3's not-found error for it.

func (b *Backend) setting(bucket, kind string) ([]byte, error) {
	v, err := b.Engine.Meta.BucketSetting(bucket, kind)
	if errors.Is(err, placement.ErrNoBucket) {
		return nil, s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	return v, err
}

// settingOr is a setting, or none (S3's not-found error for it) when the
// bucket has none.
func (b *Backend) settingOr(bucket, kind string, none error) ([]byte, error) {
	v, err := b.setting(bucket, kind)
	if err == nil && v == nil {
		err = none
	}
	return v, err
}

func (b *Backend) setSetting(bucket, kind string, v []byte) error {
	err := b.Engine.Meta.SetBucketSetting(clone(&bucket), kind, append([]byte(nil), v...))
	if errors.Is(err, placement.ErrNoBucket) {
		return s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	return err
}

// GetBucketPolicy implements backend.Backend: the bucket's policy
// document as it was put. versitygw reads it on every request it
// authorizes (see Accounts.EvaluatePolicy for the owner's own rights).
func (b *Backend) GetBucketPolicy(_ context.Context, bucket string) ([]byte, error) {
	return b.settingOr(bucket, placement.SettingPolicy, s3err.GetAPIError(s3err.ErrNoSuchBucketPolicy))
}

// PutBucketPolicy implements backend.Backend: versitygw has validated the
// document (its statements, actions, resources and principals).
func (b *Backend) PutBucketPolicy(_ context.Context, bucket string, policy []byte) error {
	return b.setSetting(bucket, placement.SettingPolicy, policy)
}

// DeleteBucketPolicy implements backend.Backend.
func (b *Backend) DeleteBucketPolicy(_ context.Context, bucket string) error {
	return b.setSetting(bucket, placement.SettingPolicy, nil)
}

// GetBucketCors implements backend.Backend: S3's
// NoSuchCORSConfiguration for a bucket without one (clients that read
// every bucket setting, Terraform's aws_s3_bucket, expect it).
func (b *Backend) GetBucketCors(_ context.Context, bucket string) ([]byte, error) {
	return b.settingOr(bucket, placement.SettingCORS, s3err.GetBucketErr(s3err.ErrNoSuchCORSConfiguration, bucket))
}

// PutBucketCors implements backend.Backend.
func (b *Backend) PutBucketCors(_ context.Context, bucket string, cors []byte) error {
	return b.setSetting(bucket, placement.SettingCORS, cors)
}

// DeleteBucketCors implements backend.Backend.
func (b *Backend) DeleteBucketCors(_ context.Context, bucket string) error {
	return b.setSetting(bucket, placement.SettingCORS, nil)
}

// GetBucketWebsite implements backend.Backend.
func (b *Backend) GetBucketWebsite(_ context.Context, bucket string) ([]byte, error) {
	return b.settingOr(bucket, placement.SettingWebsite, s3err.GetBucketErr(s3err.ErrNoSuchWebsiteConfiguration, bucket))
}

// PutBucketWebsite implements backend.Backend.
func (b *Backend) PutBucketWebsite(_ context.Context, bucket string, website []byte) error {
	return b.setSetting(bucket, placement.SettingWebsite, website)
}

// DeleteBucketWebsite implements backend.Backend.
func (b *Backend) DeleteBucketWebsite(_ context.Context, bucket string) error {
	return b.setSetting(bucket, placement.SettingWebsite, nil)
}

// noOwnership marks ownership controls deleted: a bucket never given any
// has S3's default for new buckets.
const noOwnership = "-"

// GetBucketOwnershipControls implements backend.Backend: a bucket never
// given any has S3's default for new buckets, BucketOwnerEnforced (ACLs
// off, which is how nb's buckets behave); once deleted, S3's
// OwnershipControlsNotFoundError.
func (b *Backend) GetBucketOwnershipControls(_ context.Context, bucket string) (types.ObjectOwnership, error) {
	v, err := b.setting(bucket, placement.SettingOwnership)
	switch {
	case err != nil:
		return "", err
	case v == nil:
		return types.ObjectOwnershipBucketOwnerEnforced, nil
	case string(v) == noOwnership:
		return "", s3err.GetAPIError(s3err.ErrOwnershipControlsNotFound)
	}
	return types.ObjectOwnership(v), nil
}

// PutBucketOwnershipControls implements backend.Backend.
func (b *Backend) PutBucketOwnershipControls(_ context.Context, bucket string, ownership types.ObjectOwnership) error {
	return b.setSetting(bucket, placement.SettingOwnership, []byte(ownership))
}

// DeleteBucketOwnershipControls implements backend.Backend.
func (b *Backend) DeleteBucketOwnershipControls(_ context.Context, bucket string) error {
	return b.setSetting(bucket, placement.SettingOwnership, []byte(noOwnership))
}
