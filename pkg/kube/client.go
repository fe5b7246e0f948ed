// Package kube is nb's Kubernetes client: it creates the objects nb builds
// (a Secret and its CR with no orphan left behind), waits on their status
// with a watch, reads them back, and translates API errors, in one place,
// into messages that say what to do.
package kube

import (
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
