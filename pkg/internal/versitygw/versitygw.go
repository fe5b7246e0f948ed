// Package versitygw runs a real S3 server (versitygw, Apache-2.0) on
// 127.0.0.1 for nb's tests. The binary comes from hack/versitygw.sh, whose
// path `make test` puts in NB_VERSITYGW.
package versitygw

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Server is a running versitygw.
type Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	// Dir holds the buckets: <Dir>/<bucket>/<key> are plain files.
	Dir  string
	cmd  *exec.Cmd
	done chan error
}

// Binary returns the versitygw path from NB_VERSITYGW.
func Binary() (string, error) {
	p := os.Getenv("NB_VERSITYGW")
	if p == "" {
		return "", errors.New("NB_VERSITYGW is not set: run `make test` (it installs versitygw), or `go test -short` for the unit tiers only")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("NB_VERSITYGW=%s: %w", p, err)
	}
	return p, nil
}

// Start starts a server with fresh storage and stops it when the test
// ends. Under -short the test is skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("S3 tier: runs without -short")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	s, err := StartBinary(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartBinary starts bin serving dir on a free loopback port and waits
// until it answers.
func StartBinary(bin, dir string) (*Server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Endpoint: "http://" + addr, AccessKey: "nbtestaccess", SecretKey: "nbtestsecretkey", Dir: filepath.Join(dir, "s3"), done: make(chan error, 1)}
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--quiet", "posix", s.Dir)
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("versitygw exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Stop()
	return nil, errors.New("versitygw did not answer within 10s")
}

// Stop ends the server (idempotent).
func (s *Server) Stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.done <- nil
}

// Bucket creates a bucket folder directly (versitygw's posix backend
// serves any folder under Dir as a bucket).
func (s *Server) Bucket(t testing.TB, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(s.Dir, name), 0o750); err != nil {
		t.Fatal(err)
	}
}
