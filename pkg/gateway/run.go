package gateway

import (
	"context"
	"errors"

	"github.com/versity/versitygw/embedgw"
)

// Config is how the endpoint listens.
type Config struct {
	// Address is host:port (a port of 0 cannot be used: the gateway does
	// not report the port it bound).
	Address string
	// CertFile and KeyFile turn on https.
	CertFile, KeyFile string
	// Root is the key pair that may do everything: NooBaa's admin.
	RootAccess, RootSecret string
}

// Run serves S3 until ctx ends. Only one endpoint can run in a process
// (the gateway's own limit).
func Run(ctx context.Context, be *Backend, cfg Config) error {
	if cfg.RootAccess == "" || cfg.RootSecret == "" {
		return errors.New("the endpoint needs the admin key pair")
	}
	return embedgw.RunVersityGW(ctx, be, &embedgw.Config{
		RootUserAccess: cfg.RootAccess, RootUserSecret: cfg.RootSecret, Region: Region,
		Ports: []string{cfg.Address}, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile,
		// The gateway's own defaults (versitygw's command line).
		MaxConnections: 250000, MaxRequests: 100000, MultipartMaxParts: 10000,
		Quiet: true, DisableACLs: true, IAMService: be.Accounts,
		// versitygw closes every connection after its response unless told
		// otherwise; S3 clients (the SDKs, the AWS CLI, rclone) keep theirs
		// open, as S3 and NooBaa's endpoint let them.
		KeepAlive: true,
	})
}
