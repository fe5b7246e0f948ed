package s3

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/storetest"
	"github.com/nbctl/nb/pkg/internal/versitygw"
)

func newStore(t *testing.T, srv *versitygw.Server, bucket, prefix, secret string) *Store {
	t.Helper()
	s, err := New(Config{Name: "s3", Endpoint: srv.Endpoint, Bucket: bucket, Prefix: prefix,
		AccessKey: srv.AccessKey, SecretKey: secret, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "blocks")
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) blockstore.Store {
		return newStore(t, srv, "blocks", fmt.Sprintf("t%d/", n.Add(1)), srv.SecretKey)
	})
}

func TestWrongSecretIsAuth(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "blocks")
	s := newStore(t, srv, "blocks", "", "wrong-secret")
	err := s.CheckBucket(context.Background())
	if !errors.Is(err, blockstore.ErrPermanent) || !errors.Is(err, ErrAuth) {
		t.Errorf("check: %v", err)
	}
	if err := s.Put(context.Background(), "a", []byte("x")); !errors.Is(err, ErrAuth) {
		t.Errorf("put: %v", err)
	}
}

func TestMissingBucket(t *testing.T) {
	srv := versitygw.Start(t)
	s := newStore(t, srv, "nope", "", srv.SecretKey)
	if err := s.CheckBucket(context.Background()); !errors.Is(err, ErrNoBucket) {
		t.Errorf("check: %v", err)
	}
	if err := s.Put(context.Background(), "a", []byte("x")); !errors.Is(err, ErrNoBucket) {
		t.Errorf("put: %v", err)
	}
}

func TestStoppedServerIsUnavailable(t *testing.T) {
	srv := versitygw.Start(t)
	srv.Bucket(t, "blocks")
	s := newStore(t, srv, "blocks", "", srv.SecretKey)
	if err := s.Put(context.Background(), "a", []byte("x")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := s.Get(context.Background(), "a"); !blockstore.IsUnavailable(err) {
		t.Errorf("get from a stopped server: %v", err)
	}
}

func TestSignatureV2Refused(t *testing.T) {
	if _, err := New(Config{Name: "x", Bucket: "b", SignatureVersion: "v2"}); !errors.Is(err, ErrSignatureV2) {
		t.Errorf("got %v", err)
	}
}
