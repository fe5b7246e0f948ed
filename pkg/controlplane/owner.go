package controlplane

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nbctl/nb/pkg/process"
)

// Who owns the data path of a state directory (docs/serve.md):
//
//   - Without a server, every nb process that needs the data path (a
//     reconcile pass, nb verify) uses it itself, holding datapath.lock
//     shared for as long as it does; processes share it safely
//     (placement.Meta locks its file per transaction, dir stores leave
//     other processes' temporary files alone).
//   - nb serve holds serve.lock exclusively for its life (so a second one
//     fails at once) and datapath.lock exclusively once every other user
//     has let go: from then on it alone touches the data, and other nb
//     processes ask it over its control socket (reconcile now, fail a
//     store for verify) or use its S3 endpoint.
//
// The kernel drops the locks of a process that dies, so a killed server
// leaves nothing to clean up: serve.json, which says where it listened,
// counts only while serve.lock is held.
const (
	serveLockFile = "serve.lock"
	dataLockFile  = "datapath.lock"
	serveInfoFile = "serve.json"
)

var errLocked = errors.New("locked by another process")

// ErrServed means nb serve owns the data path: ask it instead.
var ErrServed = errors.New("nb serve owns the data path")

// ServerInfo is what a running nb serve publishes.
type ServerInfo struct {
	PID int `json:"pid"`
	// Endpoint is the S3 URL (http://127.0.0.1:6001).
	Endpoint string `json:"endpoint"`
	// Host and Port are what claims' BUCKET_HOST and BUCKET_PORT say.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Socket is the control socket.
	Socket  string    `json:"socket"`
	Started time.Time `json:"started"`
}

// Lease is a process's shared hold on the data path.
type Lease struct{ f *os.File }

// Release lets go of the lease.
func (l *Lease) Release() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

func (c *ControlPlane) lockFile(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(c.Dir, name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", c.Dir, err)
	}
	return f, nil
}

// Direct leases the data path for this process's own use, unless nb serve
// owns it (ErrServed). In the server's own process it always succeeds.
func (c *ControlPlane) Direct() (*Lease, error) {
	if c.owner != nil {
		return &Lease{}, nil
	}
	f, err := c.lockFile(dataLockFile)
	if err != nil {
		return nil, err
	}
	switch err := flock(f, false, false); {
	case err == nil:
		return &Lease{f: f}, nil
	case errors.Is(err, errLocked):
		f.Close()
		return nil, ErrServed
	default:
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
}

// Server returns the running nb serve of this state directory, if any.
func (c *ControlPlane) Server() (*ServerInfo, bool) {
	if c.owner != nil {
		return c.owner.info, c.owner.info != nil
	}
	f, err := c.lockFile(serveLockFile)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if err := flock(f, false, false); err == nil {
		return nil, false
	}
	info, err := c.readServerInfo()
	if err != nil || !process.Alive(info.PID) {
		return nil, false
	}
	return info, true
}

func (c *ControlPlane) readServerInfo() (*ServerInfo, error) {
	raw, err := os.ReadFile(filepath.Join(c.Dir, serveInfoFile))
	if err != nil {
		return nil, err
	}
	var info ServerInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", serveInfoFile, err)
	}
	return &info, nil
}

// AlreadyServedError: another nb serve runs on the state directory.
type AlreadyServedError struct {
	Dir  string
	Info *ServerInfo
}

func (e *AlreadyServedError) Error() string {
	if e.Info == nil {
		return fmt.Sprintf("another nb serve is starting on %s", e.Dir)
	}
	return fmt.Sprintf("nb serve is already running on %s: pid %d, S3 endpoint %s (stop it first, or use another --state-dir)", e.Dir, e.Info.PID, e.Info.Endpoint)
}

// Ownership is nb serve's hold on a state directory.
type Ownership struct {
	serve, data *os.File
	info        *ServerInfo
	dir         string
}

// Own makes this process the owner of the data path (nb serve). It fails
// at once if another server runs; it waits (calling onWait once) while
// other nb processes still use the data path themselves.
func (c *ControlPlane) Own(ctx context.Context, onWait func()) (*Ownership, error) {
	sf, err := c.lockFile(serveLockFile)
	if err != nil {
		return nil, err
	}
	// A short probe by another process (Server) may hold the lock shared
	// for a moment: only a live server's published pid is a conflict.
	deadline := time.Now().Add(2 * time.Second)
	for {
		err = flock(sf, true, false)
		if err == nil {
			break
		}
		if !errors.Is(err, errLocked) {
			sf.Close()
			return nil, fmt.Errorf("lock %s: %w", sf.Name(), err)
		}
		if info, ierr := c.readServerInfo(); ierr == nil && process.Alive(info.PID) && info.PID != os.Getpid() {
			sf.Close()
			return nil, &AlreadyServedError{Dir: c.Dir, Info: info}
		}
		if time.Now().After(deadline) {
			sf.Close()
			return nil, &AlreadyServedError{Dir: c.Dir}
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = os.Remove(filepath.Join(c.Dir, serveInfoFile))
	df, err := c.lockFile(dataLockFile)
	if err != nil {
		sf.Close()
		return nil, err
	}
	if err := flock(df, true, false); errors.Is(err, errLocked) {
		if onWait != nil {
			onWait()
		}
		done := make(chan error, 1)
		go func() { done <- flock(df, true, true) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			df.Close() // the waiting flock ends with the file
			sf.Close()
			return nil, ctx.Err()
		}
	} else if err != nil {
		df.Close()
		sf.Close()
		return nil, fmt.Errorf("lock %s: %w", df.Name(), err)
	}
	if err != nil {
		df.Close()
		sf.Close()
		return nil, fmt.Errorf("lock %s: %w", df.Name(), err)
	}
	o := &Ownership{serve: sf, data: df, dir: c.Dir}
	c.owner = o
	return o, nil
}

// SocketPath is where the server's control socket goes: in the state
// directory, or (when that path is too long for a socket address) in the
// temporary folder under a name derived from it.
func (c *ControlPlane) SocketPath() string {
	p := filepath.Join(c.Dir, "serve.sock")
	if len(p) < 100 {
		return p
	}
	h := sha256.Sum256([]byte(c.Dir))
	return filepath.Join(os.TempDir(), "nb-"+hex.EncodeToString(h[:8])+".sock")
}

// Publish writes where the server listens (atomically: a reader sees the
// old file or the new one).
func (o *Ownership) Publish(info ServerInfo) error {
	raw, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(o.dir, serveInfoFile+".tmp")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(o.dir, serveInfoFile)); err != nil {
		return err
	}
	o.info = &info
	return nil
}

// Release gives the state directory back.
func (o *Ownership) Release() {
	_ = os.Remove(filepath.Join(o.dir, serveInfoFile))
	o.data.Close()
	o.serve.Close()
}

// serverClient talks to the running server's control socket.
func (c *ControlPlane) serverClient(ctx context.Context) (*http.Client, *ServerInfo, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, ok := c.Server()
		if ok && info.Socket != "" {
			sock := info.Socket
			return &http.Client{Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "unix", sock)
				},
			}}, info, nil
		}
		// The server holds the data path but has not published yet (it
		// is starting), or it just stopped: look again.
		if _, err := c.Direct(); !errors.Is(err, ErrServed) || time.Now().After(deadline) {
			return nil, nil, errors.New("nb serve owns the state directory but does not answer: is it starting or stopping? try again")
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// callServer makes one control request to the running server; a non-2xx
// answer is an error carrying the server's message.
func (c *ControlPlane) callServer(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	hc, info, err := c.serverClient(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://nb-serve"+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("nb serve (pid %d): %w", info.PID, err)
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("nb serve (pid %d): %s", info.PID, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

// FailStores asks the running server to make stores of namespace ns fail
// for real until the returned release is called (or this process dies:
// the server restores them when the request ends). how says how each
// failed.
func (c *ControlPlane) FailStores(ctx context.Context, ns string, stores []string) (release func(), how string, err error) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	q := "/v1/fail?namespace=" + urlQuery(ns)
	for _, s := range stores {
		q += "&store=" + urlQuery(s)
	}
	resp, err := c.callServer(rctx, http.MethodPost, q, nil)
	if err != nil {
		cancel()
		return nil, "", err
	}
	// The server answers one line once the stores are down ("<id>\t<how>"),
	// then holds the response open until the stores are restored: by the
	// restore request below, or when this process hangs up.
	line, rerr := bufio.NewReader(resp.Body).ReadString('\n')
	id, how, ok := strings.Cut(strings.TrimSpace(line), "\t")
	if rerr != nil || !ok {
		resp.Body.Close()
		cancel()
		return nil, "", fmt.Errorf("nb serve did not fail the stores: %v", rerr)
	}
	return func() {
		defer cancel()
		defer resp.Body.Close()
		if r, err := c.callServer(context.WithoutCancel(ctx), http.MethodPost, "/v1/restore?id="+urlQuery(id), nil); err == nil {
			r.Body.Close()
		}
	}, how, nil
}

// StoreFree asks the running server for the free space of stores of
// namespace ns (bytes; -1 unknown): the server owns them while it runs.
func (c *ControlPlane) StoreFree(ctx context.Context, ns string, stores []string) (map[string]int64, error) {
	q := "/v1/free?namespace=" + urlQuery(ns)
	for _, s := range stores {
		q += "&store=" + urlQuery(s)
	}
	resp, err := c.callServer(ctx, http.MethodGet, q, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("nb serve: free space: %w", err)
	}
	return out, nil
}

func urlQuery(s string) string { return url.QueryEscape(s) }

// EndpointURL is the URL of the running nb serve when it listens at
// host:port, else "".
func (c *ControlPlane) EndpointURL(host, port string) string {
	if info, ok := c.Server(); ok && servesAt(info, host, port) {
		return info.Endpoint
	}
	return ""
}

func servesAt(info *ServerInfo, host, port string) bool {
	return strconv.Itoa(info.Port) == port && (info.Host == host || host == "localhost" || host == "127.0.0.1")
}

// EndpointNote says when nothing serves S3 at host:port (a claim's
// BUCKET_HOST and BUCKET_PORT), and how to start it; "" when nb serve
// listens there.
func (c *ControlPlane) EndpointNote(host, port string) string {
	if info, ok := c.Server(); ok {
		if servesAt(info, host, port) {
			return ""
		}
		return fmt.Sprintf("nb serve listens on %s, not %s:%s: its reconcile pass updates the claim in a moment", info.Endpoint, host, port)
	}
	return fmt.Sprintf("nothing serves S3 at %s:%s yet: start the local endpoint with \"nb serve\" (in another terminal, or nb serve &)", host, port)
}

// LockStores takes the stores of namespace ns for one nb verify: an
// exclusive lock each (in name order, so two verifies never deadlock),
// held until release. A verify fails its bucket's stores in turn; another
// verify of any of them meanwhile would find them down (its upload
// degraded, its reads failing where they should not), so it waits,
// calling onWait once with the store it waits for.
func (c *ControlPlane) LockStores(ctx context.Context, ns string, stores []string, onWait func(store string)) (release func(), err error) {
	names := append([]string(nil), stores...)
	sort.Strings(names)
	var held []*os.File
	release = func() {
		for _, f := range held {
			f.Close()
		}
	}
	if err := os.MkdirAll(filepath.Join(c.Dir, "data", ns), 0o750); err != nil {
		return nil, err
	}
	waited := false
	for i, name := range names {
		if i > 0 && name == names[i-1] {
			continue
		}
		f, err := os.OpenFile(filepath.Join(c.Dir, "data", ns, "."+name+".verify.lock"), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			release()
			return nil, fmt.Errorf("lock store %q: %w", name, err)
		}
		err = flock(f, true, false)
		if errors.Is(err, errLocked) {
			if onWait != nil && !waited {
				onWait(name)
				waited = true
			}
			done := make(chan error, 1)
			go func() { done <- flock(f, true, true) }()
			select {
			case err = <-done:
			case <-ctx.Done():
				f.Close()
				release()
				return nil, ctx.Err()
			}
		}
		if err != nil {
			f.Close()
			release()
			return nil, fmt.Errorf("lock store %q: %w", name, err)
		}
		held = append(held, f)
	}
	return release, nil
}
