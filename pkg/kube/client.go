// Package kube is nb's Kubernetes client: it creates the objects nb builds
// (a Secret and its CR with no orphan left behind), waits on their status
// with a watch, reads them back, and translates API errors, in one place,
// into messages that say what to do.
package kube

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Client talks to one cluster.
type Client struct {
	Dynamic dynamic.Interface
	// Watch is a dynamic client without a request timeout, for watches
	// that outlive --request-timeout.
	Watch dynamic.Interface
	// Host is the API server's address, for error messages.
	Host string
	// RequestTimeout bounds each API call (not watches).
	RequestTimeout time.Duration
	// Controller, on the local target, plays the operator's part: the
	// client syncs it before reads and runs it while it waits. Nil on a
	// cluster, where the operator runs by itself.
	Controller Controller
}

// Controller reconciles the objects a client serves.
type Controller interface {
	// Sync reconciles once.
	Sync(ctx context.Context) error
	// Run reconciles until ctx ends.
	Run(ctx context.Context)
}

// sync reconciles once before a read, when a controller is attached.
func (c *Client) sync(ctx context.Context) error {
	if c.Controller == nil {
		return nil
	}
	return c.Controller.Sync(ctx)
}

// runController runs the controller while a wait lasts; the returned
// func stops it and returns once it has stopped.
func (c *Client) runController(ctx context.Context) (stop func()) {
	if c.Controller == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Controller.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// NewClient builds a client from a REST config.
func NewClient(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	cfg.UserAgent = "nb"
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	watchCfg := rest.CopyConfig(cfg)
	watchCfg.Timeout = 0
	watch, err := dynamic.NewForConfig(watchCfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Client{Dynamic: dyn, Watch: watch, Host: cfg.Host, RequestTimeout: cfg.Timeout}, nil
}

// NewDynamicClient serves the client from any dynamic.Interface (the
// local target's); host names it in messages.
func NewDynamicClient(dyn dynamic.Interface, host string) *Client {
	return &Client{Dynamic: dyn, Watch: dyn, Host: host}
}
