// Package server is nb serve: the local target as a running system. It
// owns the data path of one state directory (controlplane.Own), serves it
// over S3 (package gateway), plays the operator's part continuously
// (reconciling whenever the state changes), and answers other nb
// processes on a control socket: reconcile now, and fail stores for nb
// verify until it lets go. docs/serve.md describes the design.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/care"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/gateway"
	"github.com/nbctl/nb/pkg/outage"
	"github.com/nbctl/nb/pkg/placement"
	"github.com/nbctl/nb/pkg/reconciler"
	"github.com/nbctl/nb/pkg/verify"
)

var secretGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// DefaultAddress is where nb serve listens unless told otherwise: the
// port claims' BUCKET_PORT has always named.
const DefaultAddress = "127.0.0.1:6001"

// The server's memory: ChunkBuffers chunk buffers (4 MiB each) shared by
// every request, and the heap size the collector aims to stay under.
const (
	ChunkBuffers = 12
	MemoryLimit  = 80 << 20
)

// Options are how the server runs.
type Options struct {
	Address           string
	CertFile, KeyFile string
	// Log receives the server's lines (stderr).
	Log io.Writer
	// ResyncEvery is how often the server reconciles even when nothing
	// changed (S3 stores' health).
	ResyncEvery time.Duration
	// ScrubInterval is how often every bucket is scrubbed (0: never);
	// UploadExpiry how old an incomplete multipart upload gets before it
	// is aborted (0: never). See package care.
	ScrubInterval, UploadExpiry time.Duration
	// CareEvery is how often background care looks for work (0: 30 s).
	CareEvery time.Duration
	// CareRate bounds background care's reads, bytes per second (0:
	// unbounded).
	CareRate int64
}

// Server is one running nb serve.
type Server struct {
	cp   *controlplane.ControlPlane
	opt  Options
	info controlplane.ServerInfo

	accounts *gateway.Accounts
	claimsMu sync.RWMutex
	claims   map[string]string // bucket → claim namespace/name

	passMu   sync.Mutex
	passing  bool
	waiters  []chan error
	failMu   sync.Mutex
	failures map[string]chan struct{} // id → closed to restore
	nextFail int
}

func (s *Server) logf(format string, args ...any) {
	if s.opt.Log != nil {
		fmt.Fprintf(s.opt.Log, "nb serve: "+format+"\n", args...)
	}
}

// Run serves until ctx ends; it returns once everything is stopped (in
// flight uploads aborted: nothing of them is visible). ready, if set, is
// called with where the server listens once it does.
func Run(ctx context.Context, cp *controlplane.ControlPlane, opt Options, ready func(controlplane.ServerInfo)) error {
	if opt.Address == "" {
		opt.Address = DefaultAddress
	}
	if opt.ResyncEvery <= 0 {
		opt.ResyncEvery = 10 * time.Second
	}
	host, port, err := splitAddress(opt.Address)
	if err != nil {
		return err
	}
	if (opt.CertFile == "") != (opt.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both for https, or neither")
	}
	for _, f := range []string{opt.CertFile, opt.KeyFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				return fmt.Errorf("TLS file: %w", err)
			}
		}
	}
	s := &Server{cp: cp, opt: opt, accounts: &gateway.Accounts{}, failures: map[string]chan struct{}{}}
	own, err := cp.Own(ctx, func() {
		s.logf("waiting for other nb processes to finish with %s", cp.Dir)
	})
	if err != nil {
		return err
	}
	defer own.Release()

	// The port must be free before anything is advertised.
	if l, err := net.Listen("tcp", opt.Address); err != nil {
		return fmt.Errorf("--address %s: %w", opt.Address, err)
	} else {
		l.Close()
	}
	scheme := "http"
	if opt.CertFile != "" {
		scheme = "https"
	}
	advertised := host
	if advertised == "" || advertised == "0.0.0.0" || advertised == "::" {
		advertised = "localhost"
	}
	s.info = controlplane.ServerInfo{PID: os.Getpid(), Endpoint: scheme + "://" + joinHostPort(advertised, port), Host: advertised, Port: port,
		Socket: cp.SocketPath(), Started: time.Now().UTC()}
	rec := cp.Reconciler
	rec.BucketHost, rec.BucketPort, rec.Advertise = advertised, port, true
	// Memory stays flat whatever the load: requests share a budget of
	// chunk buffers, and the collector works harder before the heap
	// passes the limit (GOMEMLIMIT overrides it).
	rec.Budget = placement.NewBudget(ChunkBuffers)
	rec.CollectInBackground = true
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
	if err := cp.EnsureAdmin(ctx, nbv1.DefaultNamespace); err != nil {
		return err
	}
	meta, err := rec.Meta()
	if err != nil {
		return err
	}
	if err := meta.Hold(); err != nil {
		return err
	}
	defer meta.Close()
	defer rec.StopCollectors() // before the metadata closes
	if err := cp.Pass(ctx); err != nil {
		s.logf("%v", err) // what a pass could not do is also on the objects' events
	}
	s.accounts.Refresh = func() { _ = s.refreshAccounts(context.WithoutCancel(ctx)) }
	if err := s.refreshAccounts(ctx); err != nil {
		return err
	}
	admin, ok := s.accounts.Lookup(s.accounts.Admin())
	if !ok {
		return fmt.Errorf("the admin Secret %s/%s has no key pair", nbv1.DefaultNamespace, controlplane.AdminSecret)
	}
	eng, _, err := rec.OpenEngine(ctx, nbv1.DefaultNamespace)
	if err != nil {
		return err
	}

	// From here on, everything stops with runCtx; base outlives requests
	// until then (GET bodies stream on it).
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()

	// What an earlier run left on the garbage list (a collector stopped
	// with versions queued, a store that was down) goes now.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := eng.CollectGarbage(runCtx); err != nil && runCtx.Err() == nil {
			s.logf("collecting garbage: %v", err)
		}
	}()

	ctl, err := s.listenControl()
	if err != nil {
		return err
	}
	ctlSrv := &http.Server{Handler: s.controlHandler(runCtx), ReadHeaderTimeout: 10 * time.Second}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = ctlSrv.Serve(ctl)
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ctlSrv.Shutdown(sctx)
		_ = os.Remove(s.info.Socket)
	}()

	busy := &gateway.Busy{}
	be := &gateway.Backend{Engine: eng, Accounts: s.accounts, Base: runCtx, Logf: s.logf, Busy: busy,
		EngineFor: func(ns string) (*placement.Engine, error) {
			e, _, err := rec.OpenEngineCached(runCtx, ns)
			return e, err
		},
		NewBucket: s.newBucket, ClaimOf: s.claimOf}
	gwDone := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		gwDone <- gateway.Run(runCtx, be, gateway.Config{Address: opt.Address, CertFile: opt.CertFile, KeyFile: opt.KeyFile,
			RootAccess: admin.Access, RootSecret: admin.Secret})
	}()
	if err := waitListening(runCtx, opt.Address, gwDone); err != nil {
		stop()
		return err
	}
	if err := own.Publish(s.info); err != nil {
		return err
	}
	s.logf("S3 endpoint %s for %s (pid %d); keys: eval \"$(nb status -o env --show-secrets)\" (admin) or nb obc status NAME -o env --show-secrets (a claim's)",
		s.info.Endpoint, cp.Dir, s.info.PID)
	if ready != nil {
		ready(s.info)
	}
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		s.loop(runCtx)
	}()
	careRate := float64(opt.CareRate)
	if careRate == 0 {
		careRate = -1 // unbounded
	}
	careLoop := &care.Loop{R: rec, Every: opt.CareEvery, Rate: careRate, Busy: busy.InFlight, ScrubEvery: opt.ScrubInterval, UploadAge: opt.UploadExpiry,
		Logf: s.logf, Cleanup: func(ctx context.Context) error { return verify.CleanLeftovers(ctx, cp.Reconciler) }}
	wg.Add(1)
	go func() {
		defer wg.Done()
		careLoop.Run(runCtx)
	}()
	select {
	case <-ctx.Done():
		s.logf("stopping: in-flight requests are aborted; nothing they wrote becomes visible")
	case err = <-gwDone:
		s.logf("the S3 endpoint stopped: %v", err)
	}
	stop()
	<-loopDone
	s.restoreAll()
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func splitAddress(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("--address %q: %v: use host:port, e.g. 127.0.0.1:6001", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("--address %q: port %q is not 1-65535", addr, p)
	}
	return host, port, nil
}

func joinHostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

func waitListening(ctx context.Context, addr string, done chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("the S3 endpoint did not start: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the S3 endpoint did not listen on %s within 15s", addr)
}

// loop reconciles whenever the state changes (and every ResyncEvery),
// and keeps the accounts in step with claims and Secrets.
func (s *Server) loop(ctx context.Context) {
	var last uint64
	lastPass := time.Now()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rv, err := s.cp.Objects.ResourceVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.logf("reading the state: %v", err)
			}
			continue
		}
		if rv == last && time.Since(lastPass) < s.opt.ResyncEvery {
			continue
		}
		if err := s.reconcile(ctx); err != nil && ctx.Err() == nil {
			s.logf("%v", err)
		}
		if err := s.refreshAccounts(ctx); err != nil && ctx.Err() == nil {
			s.logf("accounts: %v", err)
		}
		last, lastPass = rv, time.Now()
		if rv2, err := s.cp.Objects.ResourceVersion(ctx); err == nil {
			last = rv2 // what the pass wrote itself needs no second pass
		}
	}
}

// reconcile runs a pass for the caller, or joins the next one: a caller
// that arrives while a pass runs waits for a pass that starts after it
// (its change may have come too late for the running one).
func (s *Server) reconcile(ctx context.Context) error {
	ch := make(chan error, 1)
	s.passMu.Lock()
	s.waiters = append(s.waiters, ch)
	if !s.passing {
		s.passing = true
		go s.passes(context.WithoutCancel(ctx))
	}
	s.passMu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) passes(ctx context.Context) {
	for {
		s.passMu.Lock()
		batch := s.waiters
		s.waiters = nil
		if len(batch) == 0 {
			s.passing = false
			s.passMu.Unlock()
			return
		}
		s.passMu.Unlock()
		err := s.cp.Pass(ctx)
		if err != nil && controlplane.Tolerable(err) == nil {
			s.logf("%v", err) // also events on the objects
			err = nil
		}
		if err == nil {
			err = s.refreshAccounts(ctx)
		}
		for _, ch := range batch {
			ch <- err
		}
	}
}

// refreshAccounts rebuilds the key pairs the endpoint accepts: NooBaa's
// admin and every bound claim's.
func (s *Server) refreshAccounts(ctx context.Context) error {
	st := s.cp.Objects
	var list []gateway.Account
	admin, err := st.Get(ctx, secretGVR, nbv1.DefaultNamespace, controlplane.AdminSecret)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err == nil {
		if a, k, ok := keysOf(admin); ok {
			list = append(list, gateway.Account{Access: a, Secret: k, Admin: true})
		}
	}
	claims, err := st.List(ctx, obv1.ObjectBucketClaimGVR, "")
	if err != nil {
		return err
	}
	// One read of every Secret instead of one per claim.
	secrets, err := st.List(ctx, secretGVR, "")
	if err != nil {
		return err
	}
	byName := make(map[string]*unstructured.Unstructured, len(secrets.Items))
	for i := range secrets.Items {
		byName[secrets.Items[i].GetNamespace()+"/"+secrets.Items[i].GetName()] = &secrets.Items[i]
	}
	owners := map[string]string{}
	for i := range claims.Items {
		c := &claims.Items[i]
		bucket, _, _ := unstructured.NestedString(c.Object, "spec", "bucketName")
		if bucket == "" {
			continue
		}
		owners[bucket] = c.GetNamespace() + "/" + c.GetName()
		if phase, _, _ := unstructured.NestedString(c.Object, "status", "phase"); phase != "Bound" || c.GetDeletionTimestamp() != nil {
			continue
		}
		if sec := byName[c.GetNamespace()+"/"+c.GetName()]; sec != nil {
			if a, k, ok := keysOf(sec); ok {
				list = append(list, gateway.Account{Access: a, Secret: k, Bucket: bucket})
			}
		}
	}
	s.accounts.Set(list)
	s.claimsMu.Lock()
	s.claims = owners
	s.claimsMu.Unlock()
	return nil
}

func keysOf(secret *unstructured.Unstructured) (access, key string, ok bool) {
	data := reconciler.SecretData(secret)
	access, key = data[obv1.AccessKeyID], data[obv1.SecretAccessKey]
	return access, key, access != "" && key != ""
}

func (s *Server) claimOf(bucket string) string {
	s.claimsMu.RLock()
	defer s.claimsMu.RUnlock()
	return s.claims[bucket]
}

// newBucket is where a bucket the admin makes over S3 lives: on the
// default bucket class, as a NooBaa bucket made without one.
func (s *Server) newBucket(ctx context.Context) (placement.Bucket, error) {
	ns := nbv1.DefaultNamespace
	obj, err := s.cp.Objects.Get(ctx, nbv1.BucketClassGVR, ns, nbv1.DefaultBucketClass)
	if apierrors.IsNotFound(err) {
		return placement.Bucket{}, fmt.Errorf("there is no bucket class %s/%s for buckets made over S3: create one (nb bucketclass create placement-bucketclass %s --backingstores ...)",
			ns, nbv1.DefaultBucketClass, nbv1.DefaultBucketClass)
	}
	if err != nil {
		return placement.Bucket{}, err
	}
	if p, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); p != "Ready" {
		return placement.Bucket{}, fmt.Errorf("bucket class %s/%s is %s, not Ready: see nb bucketclass status %s", ns, nbv1.DefaultBucketClass, orNone(p), nbv1.DefaultBucketClass)
	}
	var bc nbv1.BucketClass
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &bc); err != nil {
		return placement.Bucket{}, err
	}
	pol, err := placement.PolicyFromBucketClass(&bc)
	if err != nil {
		return placement.Bucket{}, err
	}
	return placement.Bucket{Policy: pol, Class: bc.Name, Generation: bc.Generation, Namespace: ns}, nil
}

func orNone(p string) string {
	if p == "" {
		return "not yet reconciled"
	}
	return p
}

// listenControl opens the control socket (a stale one a killed server
// left is replaced: this process owns the directory now).
func (s *Server) listenControl() (net.Listener, error) {
	_ = os.Remove(s.info.Socket)
	l, err := net.Listen("unix", s.info.Socket)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", s.info.Socket, err)
	}
	_ = os.Chmod(s.info.Socket, 0o600)
	return l, nil
}

// controlHandler answers other nb processes of this state directory.
func (s *Server) controlHandler(ctx context.Context) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/reconcile", func(w http.ResponseWriter, r *http.Request) {
		if err := s.reconcile(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /v1/fail", func(w http.ResponseWriter, r *http.Request) { s.fail(ctx, w, r) })
	mux.HandleFunc("GET /v1/buckets", func(w http.ResponseWriter, r *http.Request) {
		st, err := care.Statuses(r.Context(), s.cp.Reconciler, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /v1/care", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("kind") == care.GC {
			if err := verify.CleanLeftovers(r.Context(), s.cp.Reconciler); err != nil {
				s.logf("care: %v", err)
			}
		}
		expiry := s.opt.UploadExpiry
		if v := q.Get("uploadExpiry"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				http.Error(w, "uploadExpiry: "+err.Error(), http.StatusBadRequest)
				return
			}
			expiry = d
		}
		reps, err := controlplane.RunCare(r.Context(), s.cp.Reconciler, q.Get("kind"), q["bucket"], expiry, nil)
		if err != nil && len(reps) == 0 {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(controlplane.CareAnswer{Reports: reps, Error: errString(err)})
	})
	mux.HandleFunc("GET /v1/free", func(w http.ResponseWriter, r *http.Request) {
		ns := r.URL.Query().Get("namespace")
		eng, _, err := s.cp.Reconciler.OpenEngineCached(r.Context(), ns)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(eng.StoreFree(r.Context(), r.URL.Query()["store"]))
	})
	mux.HandleFunc("POST /v1/restore", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		s.failMu.Lock()
		ch := s.failures[id]
		delete(s.failures, id)
		s.failMu.Unlock()
		if ch == nil {
			http.Error(w, "no such failure "+id, http.StatusNotFound)
			return
		}
		ch <- struct{}{} // the failing request restores the stores,
		<-ch             // and says so
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// fail makes stores fail for real and holds the response open: the
// stores come back on /v1/restore, when the caller hangs up, or when the
// server stops.
func (s *Server) fail(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ns, names := q.Get("namespace"), q["store"]
	if ns == "" || len(names) == 0 {
		http.Error(w, "namespace and store are required", http.StatusBadRequest)
		return
	}
	var objs []*unstructured.Unstructured
	for _, n := range names {
		obj, err := s.cp.Objects.Get(r.Context(), nbv1.BackingStoreGVR, ns, n)
		if err != nil {
			http.Error(w, fmt.Sprintf("backingstore %s/%s: %v", ns, n, err), http.StatusNotFound)
			return
		}
		objs = append(objs, obj)
	}
	restore, how, err := outage.FailStores(ctx, s.cp.Reconciler, objs)
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	s.failMu.Lock()
	s.nextFail++
	id := strconv.Itoa(s.nextFail)
	ch := make(chan struct{})
	s.failures[id] = ch
	s.failMu.Unlock()
	s.logf("%s failed for nb verify (%s)", strings.Join(names, ", "), how)
	fmt.Fprintf(w, "%s\t%s\n", id, how)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	restored := false
	select {
	case <-ch: // /v1/restore: it waits for our answer on ch
		restored = true
	case <-r.Context().Done():
	case <-ctx.Done():
	}
	if err := restore(); err != nil {
		s.logf("restoring %s: %v", strings.Join(names, ", "), err)
	} else {
		s.logf("%s restored", strings.Join(names, ", "))
	}
	s.failMu.Lock()
	delete(s.failures, id)
	s.failMu.Unlock()
	if restored {
		ch <- struct{}{}
	}
}

// restoreAll ends every failure still held (the server is stopping).
func (s *Server) restoreAll() {
	s.failMu.Lock()
	n := len(s.failures)
	s.failMu.Unlock()
	for i := 0; i < 100 && n > 0; i++ {
		time.Sleep(20 * time.Millisecond)
		s.failMu.Lock()
		n = len(s.failures)
		s.failMu.Unlock()
	}
}
