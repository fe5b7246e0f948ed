//go:build unix

package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/nbctl/nb/pkg/nbcmd"
	"github.com/nbctl/nb/pkg/placement"
)

// The test binary doubles as nb: every nb here is a real process, as a
// user runs it, and nb serve a real server on 127.0.0.1.
func TestMain(m *testing.M) {
	if os.Getenv("NB_TEST_BINARY_IS_NB") == "1" {
		os.Exit(nbcmd.Main())
	}
	os.Exit(m.Run())
}

type state struct {
	dir  string
	home string
	// env is added to every nb the state runs (AWS_ENDPOINT_URL_S3).
	extraEnv []string
}

func newState(t *testing.T) *state {
	t.Helper()
	return &state{dir: filepath.Join(t.TempDir(), "state"), home: t.TempDir()}
}

func (s *state) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "NB_TEST_BINARY_IS_NB=1", "NB_TARGET=local", "NB_STATE_DIR="+s.dir, "HOME="+s.home, "NO_COLOR=1"), s.extraEnv...)
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

func (s *state) run(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := s.cmd(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nb %s: %v", strings.Join(args, " "), err)
	}
	return result{out.String(), errOut.String(), code}
}

func (s *state) ok(t testing.TB, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != 0 {
		t.Fatalf("nb %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// env reads `nb ... -o env --show-secrets` export lines.
func (s *state) env(t testing.TB, args ...string) map[string]string {
	t.Helper()
	r := s.ok(t, append(args, "-o", "env", "--show-secrets")...)
	out := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if ok {
			out[k] = strings.Trim(v, "'")
		}
	}
	return out
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is a running nb serve.
type server struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
	addr   string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts nb serve and waits until it says where it listens.
func (s *state) serve(t testing.TB, addr string, extra ...string) *server {
	t.Helper()
	cmd := s.cmd(context.Background(), append([]string{"serve", "--address", addr}, extra...)...)
	pr, pw := io.Pipe()
	buf := &lockedBuffer{}
	cmd.Stderr = io.MultiWriter(pw, buf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &server{cmd: cmd, stderr: buf, done: make(chan error, 1), addr: addr}
	go func() { srv.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { srv.kill() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "S3 endpoint http://"+addr) {
				ready <- true
			}
		}
		ready <- false
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("nb serve stopped before listening:\n%s", buf.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("nb serve did not say it listens:\n%s", buf.String())
	}
	return srv
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// stop sends SIGTERM and waits for the exit.
func (s *server) stop(t testing.TB) {
	t.Helper()
	start := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("nb serve on SIGTERM: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("nb serve did not stop on SIGTERM:\n%s", s.stderr.String())
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("nb serve took %s to stop", d)
	}
}

func s3client(endpoint, key, secret string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), Retryer: aws.NopRetryer{}})
}

func claimClient(t testing.TB, s *state, claim, endpoint string) (*s3.Client, string) {
	t.Helper()
	e := s.env(t, "obc", "status", claim)
	if e["AWS_ENDPOINT_URL"] != endpoint {
		t.Errorf("obc %s -o env: AWS_ENDPOINT_URL %q, want %q", claim, e["AWS_ENDPOINT_URL"], endpoint)
	}
	return s3client(endpoint, e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]), e["BUCKET_NAME"]
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// mirrorSetup makes two pv-pool stores, a Mirror class over them and a
// claim c1 on it.
func mirrorSetup(t testing.TB, s *state) {
	t.Helper()
	s.ok(t, "backingstore", "create", "pv-pool", "pv1", "--num-volumes", "2", "--pv-size-gb", "16")
	s.ok(t, "backingstore", "create", "pv-pool", "pv2", "--num-volumes", "1", "--pv-size-gb", "16")
	s.ok(t, "bucketclass", "create", "placement-bucketclass", "mirror", "--placement", "Mirror", "--backingstores", "pv1,pv2")
	s.ok(t, "obc", "create", "c1", "--bucketclass", "mirror")
}

func TestServeWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve")
	}
	ctx := context.Background()
	s := newState(t)
	mirrorSetup(t, s)
	if r := s.ok(t, "obc", "status", "c1"); !strings.Contains(r.stderr, "nothing serves S3 at") {
		t.Errorf("obc status with no server says nothing of it:\n%s", r.stderr)
	}
	addr := freeAddr(t)
	srv := s.serve(t, addr)
	endpoint := "http://" + addr

	// A second server on the same directory exits at once, naming the first.
	start := time.Now()
	r := s.run(t, "serve", "--address", freeAddr(t))
	if r.code != 1 || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, fmt.Sprint(srv.cmd.Process.Pid)) || time.Since(start) > 5*time.Second {
		t.Errorf("second nb serve: exit %d after %s\n%s", r.code, time.Since(start), r.stderr)
	}

	c1, bucket := claimClient(t, s, "c1", endpoint)
	lb, err := c1.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != bucket {
		t.Fatalf("claim lists %+v, %v", lb, err)
	}
	body := bytes.Repeat([]byte("nb serve "), 1<<18)
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("movie"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}

	// The admin: every bucket, and buckets made over S3 on the default class.
	admin := s.env(t, "status")
	if admin["AWS_ENDPOINT_URL"] != endpoint {
		t.Errorf("status -o env: endpoint %q", admin["AWS_ENDPOINT_URL"])
	}
	ac := s3client(endpoint, admin["AWS_ACCESS_KEY_ID"], admin["AWS_SECRET_ACCESS_KEY"])
	if _, err := ac.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("made-over-s3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("made-over-s3"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("made-over-s3"), Key: aws.String("k")}); errCode(err) != "AccessDenied" {
		t.Errorf("claim reading the admin's bucket: %v", err)
	}
	// The default class holds on while a bucket made over S3 uses it.
	if r := s.run(t, "bucketclass", "delete", "noobaa-default-bucket-class", "--force", "--timeout", "3s"); r.code != 4 || !strings.Contains(r.stderr, "bucket made-over-s3") {
		t.Errorf("deleting the default class under a bucket made over S3: exit %d\n%s", r.code, r.stderr)
	}

	// Claims bound while the server runs work at once; deleted, their key stops.
	s.ok(t, "obc", "create", "c2", "--bucketclass", "mirror")
	c2, bucket2 := claimClient(t, s, "c2", endpoint)
	if _, err := c2.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket2, Key: aws.String("x"), Body: strings.NewReader("y")}); err != nil {
		t.Fatalf("a claim bound while serving: %v", err)
	}
	s.ok(t, "obc", "delete", "c2")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c2.ListBuckets(ctx, &s3.ListBucketsInput{})
		if errCode(err) == "InvalidAccessKeyId" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a deleted claim's key still works: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A test object larger than the class can take is refused before a
	// byte is written (the Mirror's smaller store has 16 GiB).
	if r := s.run(t, "verify", "c1", "--size", "17Gi"); r.code != 2 || !strings.Contains(r.stderr, "--size") || !strings.Contains(r.stderr, "room for 16Gi") {
		t.Errorf("verify larger than the class through the server: exit %d\n%s", r.code, r.stderr)
	}

	// verify makes its round trip through the endpoint, failing stores for real.
	r = s.ok(t, "verify", "c1", "--size", "9Mi", "-o", "json")
	var rep struct {
		Target string
		OK     bool
		Cases  []struct {
			Failed          []string
			Result, Failure string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Target != "local" || len(rep.Cases) != 4 || !strings.Contains(r.stderr, "through its S3 endpoint") {
		t.Errorf("verify through the server: %s\n%s", r.stdout, r.stderr)
	}
	for _, c := range rep.Cases {
		want := "intact"
		if len(c.Failed) == 2 {
			want = "unavailable"
		}
		if c.Result != want {
			t.Errorf("case %v: %s, want %s", c.Failed, c.Result, want)
		}
	}
	if got, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("movie")}); err != nil {
		t.Errorf("the movie after verify: %v", err)
	} else {
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(b, body) {
			t.Errorf("the movie changed")
		}
	}

	srv.stop(t)
	if _, err := os.Stat(filepath.Join(s.dir, "serve.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the control socket outlived the server: %v", err)
	}
	// Without the server, the same commands use the data path directly.
	r = s.ok(t, "verify", "c1", "--size", "1Mi", "--fail", "pv1", "-o", "json")
	if strings.Contains(r.stderr, "through its S3 endpoint") {
		t.Errorf("verify after the server stopped still went through it")
	}
	if r := s.run(t, "verify", "c1", "--size", "17Gi"); r.code != 2 || !strings.Contains(r.stderr, "room for 16Gi") {
		t.Errorf("verify larger than the class: exit %d\n%s", r.code, r.stderr)
	}
	if r := s.run(t, "verify", "--bucketclass", "mirror", "--size", "17Gi"); r.code != 2 || !strings.Contains(r.stderr, "room for 16Gi") {
		t.Errorf("verify --bucketclass larger than the class: exit %d\n%s", r.code, r.stderr)
	}
	meta, err := placement.OpenMeta(filepath.Join(s.dir, "data", "buckets.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	buckets, err := meta.Buckets()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		if strings.HasPrefix(b.Name, "nb-verify-") {
			t.Errorf("a refused verify left its temporary bucket %s", b.Name)
		}
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	s := newState(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--address", "nonsense"}, "--address"},
		{[]string{"serve", "--address", "127.0.0.1:0"}, "--address"},
		{[]string{"serve", "--tls-cert", "x.pem"}, "--tls-key"},
	} {
		r := s.run(t, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("nb %s: exit %d\n%s", strings.Join(c.args, " "), r.code, r.stderr)
		}
	}
}

// awsCLI is the AWS CLI (Debian's awscli, which .ci/run installs).
func awsCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal("the AWS CLI is not installed: apt-get install awscli (.ci/run does), or go test -short")
	}
	return p
}

func TestServeWithTheAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve and the AWS CLI")
	}
	awsBin := awsCLI(t)
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	s.serve(t, addr)
	e := s.env(t, "obc", "status", "c1")
	bucket := e["BUCKET_NAME"]
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", e["AWS_ENDPOINT_URL"], "--region", "us-east-1"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+e["AWS_SECRET_ACCESS_KEY"],
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+s.home)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	dir := t.TempDir()
	big := filepath.Join(dir, "movie.bin")
	writeRandom(t, big, 256<<20)
	if out := aws("s3", "ls"); !strings.Contains(out, bucket) {
		t.Errorf("s3 ls: %s", out)
	}
	aws("s3", "cp", "--only-show-errors", big, "s3://"+bucket+"/movies/movie.bin")
	back := filepath.Join(dir, "back.bin")
	aws("s3", "cp", "--only-show-errors", "s3://"+bucket+"/movies/movie.bin", back)
	if !sameFile(t, big, back) {
		t.Fatal("256 MiB copied down differs from what went up")
	}
	head := aws("s3api", "head-object", "--bucket", bucket, "--key", "movies/movie.bin")
	if !strings.Contains(head, `"ContentLength": 268435456`) || !strings.Contains(head, `-`) {
		t.Errorf("head-object:\n%s", head)
	}
	aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "movies/movie.bin", "--tagging", "TagSet=[{Key=genre,Value=drama}]")
	if tags := aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "movies/movie.bin"); !strings.Contains(tags, `"Key": "genre"`) || !strings.Contains(tags, `"Value": "drama"`) {
		t.Errorf("get-object-tagging:\n%s", tags)
	}
	// docs/serve.md's bucket policy: public read of one prefix, unsigned.
	aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+bucket+`/public/*"}]}`)
	aws("s3", "cp", "--only-show-errors", "-", "s3://"+bucket+"/public/index.html")
	if st := aws("s3api", "get-bucket-policy-status", "--bucket", bucket); !strings.Contains(st, `"IsPublic": true`) {
		t.Errorf("get-bucket-policy-status:\n%s", st)
	}
	for path, want := range map[string]int{"/public/index.html": 200, "/movies/movie.bin": 403} {
		resp, err := http.Get(e["AWS_ENDPOINT_URL"] + "/" + bucket + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("unsigned GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	aws("s3api", "delete-bucket-policy", "--bucket", bucket)
	// A tree: sync up, list, sync again (nothing to do), remove recursively.
	tree := filepath.Join(dir, "tree")
	for i, p := range []string{"a.txt", "sub/b.txt", "sub/deeper/c d.txt", "ü/ñ+%.txt"} {
		full := filepath.Join(tree, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.Repeat("x", i*1000+1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	aws("s3", "sync", "--only-show-errors", tree, "s3://"+bucket+"/tree/")
	ls := aws("s3", "ls", "--recursive", "s3://"+bucket+"/tree/")
	for _, want := range []string{"tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c d.txt", "tree/ü/ñ+%.txt"} {
		if !strings.Contains(ls, want) {
			t.Errorf("s3 ls --recursive lacks %q:\n%s", want, ls)
		}
	}
	if out := aws("s3", "sync", "--dryrun", tree, "s3://"+bucket+"/tree/"); strings.TrimSpace(out) != "" {
		t.Errorf("a second sync would copy again:\n%s", out)
	}
	down := filepath.Join(dir, "down")
	aws("s3", "sync", "--only-show-errors", "s3://"+bucket+"/tree/", down)
	if !sameFile(t, filepath.Join(tree, "ü/ñ+%.txt"), filepath.Join(down, "ü/ñ+%.txt")) {
		t.Errorf("synced down differently")
	}
	aws("s3", "rm", "--only-show-errors", "--recursive", "s3://"+bucket+"/")
	if out := aws("s3", "ls", "--recursive", "s3://"+bucket+"/"); strings.TrimSpace(out) != "" {
		t.Errorf("left after rm --recursive:\n%s", out)
	}
}

func writeRandom(t *testing.T, path string, n int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := os.Open("/dev/urandom")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.CopyN(f, r, n); err != nil {
		t.Fatal(err)
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// seconds reads a duration knob of the long tests (bench/ scripts raise
// them).
func seconds(name string, def int) time.Duration {
	if v := os.Getenv(name); v != "" {
		var n int
		if _, err := fmt.Sscanf(v, "%d", &n); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return time.Duration(def) * time.Second
}

// mixed runs 8 nb processes at once for d, each a loop of creates, lists,
// statuses, completions, verifies and deletes of objects of its own;
// every command must succeed and every object it made and did not delete
// must be there at the end.
func mixed(t *testing.T, s *state, d time.Duration, uploads func(stop <-chan struct{}) error) {
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	stop := make(chan struct{})
	deadline := time.Now().Add(d)
	kept := make([][]string, 8)
	run := func(p int, args ...string) bool {
		r := s.run(t, args...)
		if r.code != 0 || strings.Contains(r.stderr, "timeout") {
			errs <- fmt.Errorf("process %d: nb %s: exit %d\n%s%s", p, strings.Join(args, " "), r.code, r.stdout, r.stderr)
			return false
		}
		return true
	}
	var commands atomic.Int64
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				store := fmt.Sprintf("p%d-s%d", p, i)
				claim := fmt.Sprintf("p%d-c%d", p, i)
				steps := [][]string{
					{"backingstore", "create", "pv-pool", store, "--num-volumes", "1", "--pv-size-gb", "16", "--timeout", "2m"},
					{"backingstore", "list"},
					{"obc", "create", claim, "--bucketclass", "mirror", "--timeout", "2m"},
					{"obc", "status", claim},
					{"__complete", "backingstore", "status", ""},
					{"bucketclass", "status", "mirror"},
				}
				if p%4 == 0 {
					steps = append(steps, []string{"verify", "c1", "--size", "4Mi", "--fail", "pv1"})
				}
				if i%2 == 1 {
					steps = append(steps, []string{"obc", "delete", claim, "--timeout", "2m"}, []string{"backingstore", "delete", store, "--timeout", "2m"})
				} else {
					kept[p] = append(kept[p], store, claim)
				}
				for _, st := range steps {
					if !run(p, st...) {
						return
					}
					commands.Add(1)
				}
			}
		}()
	}
	upErr := make(chan error, 1)
	go func() { upErr <- uploads(stop) }()
	wg.Wait()
	close(stop)
	if err := <-upErr; err != nil {
		t.Errorf("uploads: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stores := s.ok(t, "backingstore", "list", "-o", "name").stdout
	claims := s.ok(t, "obc", "list", "-o", "name").stdout
	for p := range kept {
		for _, name := range kept[p] {
			if !strings.Contains(stores+claims, "/"+name+"\n") {
				t.Errorf("%s was created and not deleted, but is gone (a lost update)", name)
			}
		}
	}
	t.Logf("%d commands in %s", commands.Load(), d)
}

// uploader puts and reads back objects through a claim's key until stop;
// every acknowledged object must read back as written.
func uploader(endpoint string, c *s3.Client, bucket string) func(stop <-chan struct{}) error {
	return func(stop <-chan struct{}) error {
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return nil
			default:
			}
			key := fmt.Sprintf("up/%d", i%20)
			body := bytes.Repeat([]byte{byte(i)}, 1<<20+i)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
				return fmt.Errorf("put %s: %w", key, err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				return fmt.Errorf("get %s: %w", key, err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				return fmt.Errorf("get %s: %d bytes, %v", key, len(got), err)
			}
		}
	}
}

func TestServeBesideEightProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 8 nb processes for a minute")
	}
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	srv := s.serve(t, addr)
	c1, bucket := claimClient(t, s, "c1", "http://"+addr)
	mixed(t, s, seconds("NB_TEST_CONCURRENCY_SECONDS", 60), uploader("http://"+addr, c1, bucket))
	srv.stop(t)
}

// Without a server every process uses the data path itself: the same
// mixed load, with verify uploading through the data path directly.
func TestEightProcessesWithoutAServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 8 nb processes")
	}
	s := newState(t)
	mirrorSetup(t, s)
	mixed(t, s, seconds("NB_TEST_CONCURRENCY_SECONDS", 30), func(<-chan struct{}) error { return nil })
}

// crashBody is version v of key: its size and bytes follow from both.
func crashBody(key string, v int) []byte {
	size := (v*7919+len(key)*104729)%(9<<20) + 1
	if v%2 == 1 { // a pack record (docs/serve.md: small objects)
		size = size%(64<<10) + 1
	}
	b := make([]byte, size)
	seed := uint64(v)*1000003 + uint64(len(key))
	for i := range b {
		seed = seed*6364136223846793005 + 1442695040888963407
		b[i] = byte(seed >> 56)
	}
	return b
}

// A server killed (SIGKILL) at a random moment during uploads: after a
// restart every acknowledged object reads back byte-identical, and no
// object is visible torn (each is one whole version that was put).
func TestServeKilledDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("kills nb serve")
	}
	trials := 3
	if v := os.Getenv("NB_TEST_CRASH_TRIALS"); v != "" {
		fmt.Sscanf(v, "%d", &trials)
	}
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	srv := s.serve(t, addr)
	c1, bucket := claimClient(t, s, "c1", "http://"+addr)
	e := s.env(t, "obc", "status", "c1")
	ctx := context.Background()
	const writers, keysPer = 4, 3
	acked := map[string]int{}   // key → last acknowledged version
	attempt := map[string]int{} // key → version being put
	var mu sync.Mutex
	rnd := time.Now().UnixNano()
	for trial := 0; trial < trials; trial++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					for k := 0; k < keysPer; k++ {
						select {
						case <-stop:
							return
						default:
						}
						key := fmt.Sprintf("w%d/k%d", w, k)
						mu.Lock()
						v := attempt[key] + 1
						attempt[key] = v
						mu.Unlock()
						_, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(crashBody(key, v))})
						if err != nil {
							return // the server died under it
						}
						mu.Lock()
						acked[key] = v
						mu.Unlock()
					}
				}
			}()
		}
		rnd = rnd*6364136223846793005 + 1
		time.Sleep(time.Duration(200+uint64(rnd>>33)%1300) * time.Millisecond)
		_ = srv.cmd.Process.Signal(syscall.SIGKILL)
		<-srv.done
		close(stop)
		wg.Wait()
		srv = s.serve(t, addr)
		c1 = s3client("http://"+addr, e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"])
		// Every key: absent only if never acknowledged; else the last
		// acknowledged version or the one that was in flight.
		for w := 0; w < writers; w++ {
			for k := 0; k < keysPer; k++ {
				key := fmt.Sprintf("w%d/k%d", w, k)
				out, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				if errCode(err) == "NoSuchKey" {
					if acked[key] > 0 {
						t.Fatalf("trial %d: %s acknowledged at version %d is gone", trial, key, acked[key])
					}
					continue
				}
				if err != nil {
					t.Fatalf("trial %d: get %s: %v", trial, key, err)
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					t.Fatalf("trial %d: read %s: %v", trial, key, err)
				}
				ok := false
				for _, v := range []int{acked[key], attempt[key]} {
					if v > 0 && bytes.Equal(got, crashBody(key, v)) {
						ok, acked[key] = true, v
					}
				}
				if !ok {
					t.Fatalf("trial %d: %s holds %d bytes that are neither version %d (acknowledged) nor %d (in flight): torn or lost", trial, key, len(got), acked[key], attempt[key])
				}
				attempt[key] = acked[key]
			}
		}
		// Listing shows only whole objects.
		l, err := c1.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("w")})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Contents) > writers*keysPer {
			t.Fatalf("trial %d: %d objects listed", trial, len(l.Contents))
		}
	}
	total := 0
	for _, v := range acked {
		total += v
	}
	t.Logf("%d trials, %d versions acknowledged", trials, total)
	if total == 0 {
		t.Errorf("no upload was acknowledged: the test tested nothing")
	}
	srv.stop(t)
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (cert, key string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nb serve test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return cert, key, pool
}

func TestServeOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve")
	}
	s := newState(t)
	s.ok(t, "obc", "create", "c1") // on the default class
	cert, key, pool := selfSigned(t, t.TempDir())
	addr := freeAddr(t)
	cmd := s.cmd(context.Background(), "serve", "--address", addr, "--tls-cert", cert, "--tls-key", key)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "S3 endpoint https://"+addr) {
		if time.Now().After(deadline) {
			t.Fatalf("nb serve --tls-cert did not listen:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	e := s.env(t, "obc", "status", "c1")
	if e["AWS_ENDPOINT_URL"] != "https://"+addr {
		t.Errorf("endpoint %q", e["AWS_ENDPOINT_URL"])
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := s3.New(s3.Options{BaseEndpoint: aws.String("https://" + addr), UsePathStyle: true, Region: "us-east-1", HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"], "")})
	bucket := e["BUCKET_NAME"]
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: strings.NewReader("over tls")}); err != nil {
		t.Fatalf("put over https: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "over tls" {
		t.Errorf("read %q", got)
	}
	// verify through the https endpoint, trusting the test CA.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	raw, _ := os.ReadFile(cert)
	_ = os.WriteFile(caFile, raw, 0o600)
	if r := s.run(t, "verify", "c1", "--size", "1Mi", "--ca-bundle", caFile, "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"ok": true`) {
		t.Errorf("verify over https: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// patterned is a seekable body of n bytes made on the fly (the SDK hashes
// a body before it sends it, then reads it again).
type patterned struct{ off, n int64 }

// pattern repeats in a patterned body (copied, not computed byte by byte:
// the tests run with -race).
var pattern = func() []byte {
	b := make([]byte, 1<<16)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func (p *patterned) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	m := int(min(int64(len(b)), p.n-p.off))
	for done := 0; done < m; {
		at := int((p.off + int64(done)) % int64(len(pattern)))
		done += copy(b[done:m], pattern[at:])
	}
	p.off += int64(m)
	return m, nil
}

func (p *patterned) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		p.off = off
	case io.SeekCurrent:
		p.off += off
	case io.SeekEnd:
		p.off = p.n + off
	}
	return p.off, nil
}

// serveOneClaim is a fresh state with claim c1 on the default class, nb
// serve on it, and an S3 client of c1's keys.
func serveOneClaim(t *testing.T) (s *state, addr string, srv *server, c *s3.Client, bucket string) {
	t.Helper()
	s = newState(t)
	s.ok(t, "obc", "create", "c1")
	addr = freeAddr(t)
	srv = s.serve(t, addr)
	c, bucket = claimClient(t, s, "c1", "http://"+addr)
	return s, addr, srv, c, bucket
}

// SIGTERM during an upload (1 GiB): the server stops within its grace period,
// the upload is aborted, and neither it nor anything of it is visible
// after a restart; the version it would have replaced is intact.
func TestServeStopsDuringAnUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve")
	}
	s, addr, srv, c, bucket := serveOneClaim(t)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: strings.NewReader("old")}); err != nil {
		t.Fatal(err)
	}
	// Stop once the server is taking the body: its data path has blocks
	// of the new version on disk.
	done := make(chan error, 1)
	go func() {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: &patterned{n: 1 << 30}})
		done <- err
	}()
	vol := filepath.Join(s.dir, "data", "noobaa", "noobaa-default-backing-store")
	for deadline := time.Now().Add(60 * time.Second); ; {
		if du(t, vol) > 64<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload never reached the store")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.stop(t)
	if err := <-done; err == nil {
		t.Fatal("an upload cut off by the server's stop succeeded")
	}
	s.serve(t, addr)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "old" {
		t.Errorf("after the aborted upload the object reads %d bytes, want the old version", len(got))
	}
	if n := du(t, vol); n > 16<<20 {
		t.Errorf("%d bytes of the aborted upload are left on the store", n)
	}
}

// Clients keep their connections open between requests; a stop closes
// the idle ones at once instead of waiting out the gateway's 10 s grace
// for them (a hang on Ctrl-C whenever a client is connected).
func TestServeStopsBesideIdleConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve")
	}
	_, _, srv, c, bucket := serveOneClaim(t)
	if _, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv.stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("nb serve took %s to stop beside an idle client connection", d)
	}
}

// du is how many bytes the files under dir take on disk.
func du(t *testing.T, dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				}
			}
		}
		return nil
	})
	return n
}

// Background care while nb serve runs: an object written while a mirror
// was down is healed once the store is back; nb bucket gc through the
// server aborts abandoned uploads and removes what a killed verify left.
func TestServeCaresInTheBackground(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve")
	}
	ctx := context.Background()
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	srv := s.serve(t, addr, "--care-every", "300ms")
	c1, bucket := claimClient(t, s, "c1", "http://"+addr)
	status := func() (degraded, healed int64) {
		t.Helper()
		var st struct {
			Degraded int64
			Care     struct {
				Heal *struct{ Objects int }
			}
		}
		if err := json.Unmarshal([]byte(s.ok(t, "bucket", "status", "c1", "-o", "json").stdout), &st); err != nil {
			t.Fatal(err)
		}
		if st.Care.Heal != nil {
			healed = int64(st.Care.Heal.Objects)
		}
		return st.Degraded, healed
	}

	// pv2 goes away (its folder moved, as nb verify fails it); a PUT is
	// written degraded; pv2 comes back and the server heals the object.
	pv2 := filepath.Join(s.dir, "data", "noobaa", "pv2")
	if err := os.Rename(pv2, pv2+".away"); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("heal me "), 1<<17)
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("degraded"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("a PUT with one mirror down: %v", err)
	}
	if d, _ := status(); d != 1 {
		t.Fatalf("degraded objects with pv2 away: %d, want 1", d)
	}
	if err := os.Rename(pv2+".away", pv2); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, healed := status()
		if d == 0 && healed >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not healed 30 s after pv2 came back: %d degraded\n%s", d, srv.stderr.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(srv.stderr.String(), "care: healed 1 object(s)") {
		t.Errorf("the server did not log the heal:\n%s", srv.stderr.String())
	}

	// An upload nobody completes is aborted by gc once it is old enough.
	up, err := c1.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("abandoned")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: aws.String("abandoned"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	if r := s.ok(t, "bucket", "gc", "c1"); strings.Contains(r.stdout, "aborted") {
		t.Errorf("gc aborted a fresh upload: %s", r.stdout)
	}
	time.Sleep(50 * time.Millisecond)
	if r := s.ok(t, "bucket", "gc", "c1", "--upload-expiry", "10ms"); !strings.Contains(r.stdout, "1 abandoned upload(s) aborted") {
		t.Errorf("gc --upload-expiry 10ms: %s", r.stdout)
	}
	if l, err := c1.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket}); err != nil || len(l.Uploads) != 0 {
		t.Errorf("uploads left after gc: %v %+v", err, l)
	}

	// What a killed verify left: its test object, recorded with its pid.
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("nb-verify/left"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(s.dir, "data", ".verify", fmt.Sprintf("%d-test.json", dead.Process.Pid))
	if err := os.MkdirAll(filepath.Dir(rec), 0o700); err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`{"pid": %d, "namespace": "noobaa", "bucket": %q, "key": "nb-verify/left"}`, dead.Process.Pid, bucket)
	if err := os.WriteFile(rec, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	s.ok(t, "bucket", "gc", "--all")
	if _, err := c1.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("nb-verify/left")}); err == nil {
		t.Errorf("what a killed verify left is still there")
	}
	if _, err := os.Stat(rec); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("its record is still there: %v", err)
	}
	if _, err := c1.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("degraded")}); err != nil {
		t.Errorf("gc removed an object it must keep: %v", err)
	}

	// The class changes: the server moves the data to follow it, and the
	// object reads back the same throughout.
	s.ok(t, "backingstore", "create", "pv-pool", "pv3", "--num-volumes", "1", "--pv-size-gb", "16")
	s.ok(t, "bucketclass", "update", "mirror", "--placement", "Mirror", "--backingstores", "pv1,pv3")
	deadline = time.Now().Add(30 * time.Second)
	for {
		var st struct {
			Misplaced int64
			Policy    string
		}
		if err := json.Unmarshal([]byte(s.ok(t, "bucket", "status", "c1", "-o", "json").stdout), &st); err != nil {
			t.Fatal(err)
		}
		if st.Misplaced == 0 && st.Policy == "Mirror over pv1,pv3" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d object(s) still misplaced 30 s after the class changed\n%s", st.Misplaced, srv.stderr.String())
		}
		out, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("degraded")})
		if err != nil {
			t.Fatalf("the object during the rebalance: %v", err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("the object changed during the rebalance")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if !strings.Contains(srv.stderr.String(), "care: rebalanced") {
		t.Errorf("the server did not log the rebalance:\n%s", srv.stderr.String())
	}
}

// Small objects uploaded over S3 live in packs; with buckets.db lost,
// nb recover brings every one of them back from the packs alone, and an
// object deleted before does not come back.
func TestRecoverSmallObjectsFromPacks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nb serve")
	}
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	srv := s.serve(t, addr)
	c1, bucket := claimClient(t, s, "c1", "http://"+addr)
	ctx := context.Background()
	want := map[string][]byte{}
	for i := 0; i < 40; i++ {
		key := fmt.Sprintf("small/%02d", i)
		body := crashBody(key, 2*i+1) // odd versions are pack records
		if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		want[key] = body
	}
	for _, key := range []string{"small/03", "small/17"} {
		if _, err := c1.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		delete(want, key)
	}
	srv.stop(t)
	var packs int
	_ = filepath.WalkDir(filepath.Join(s.dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, string(filepath.Separator)+"packs"+string(filepath.Separator)) {
			packs++
		}
		return nil
	})
	if packs == 0 {
		t.Fatal("no pack file on the stores: the small objects did not go to packs")
	}
	if err := os.Truncate(filepath.Join(s.dir, "data", "buckets.db"), 0); err != nil {
		t.Fatal(err)
	}
	s.ok(t, "recover")
	srv = s.serve(t, addr)
	defer srv.stop(t)
	for key, body := range want {
		out, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s after nb recover: %v", key, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s after nb recover: %d bytes, %v", key, len(got), err)
		}
	}
	for _, key := range []string{"small/03", "small/17"} {
		if _, err := c1.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)}); errCode(err) != "NotFound" {
			t.Errorf("%s, deleted before, after nb recover: %v", key, err)
		}
	}
}
