//go:build unix

package server_test

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbctl/nb/pkg/internal/versitygw"
)

// The multi-cloud federation walk-through as the guide writes it, on one
// machine: a local S3 server stands in for AWS (AWS_ENDPOINT_URL_S3), the
// guide's manifests go in with nb apply -f DIR, nb serve serves the
// claim's bucket, the AWS CLI copies a 256 MiB "movie" in, the class is
// edited to drop the aws-s3 store, the stand-in is stopped, and the movie
// copied back is the same.
func TestFederationWalkThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nb serve, an S3 stand-in and the AWS CLI")
	}
	awsBin := awsCLI(t)
	aws := versitygw.Start(t)
	aws.Bucket(t, "noobaa-federation-demo")
	s := newState(t)
	s.extraEnv = []string{"AWS_ENDPOINT_URL_S3=" + aws.Endpoint}

	// The guide's manifests, the Secret carrying the stand-in's keys.
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "apply", "federation")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.NewReplacer(
			base64.StdEncoding.EncodeToString([]byte("ACCESS_KEY")), base64.StdEncoding.EncodeToString([]byte(aws.AccessKey)),
			base64.StdEncoding.EncodeToString([]byte("SECRET_KEY")), base64.StdEncoding.EncodeToString([]byte(aws.SecretKey)),
		).Replace(string(raw))
		if err := os.WriteFile(filepath.Join(dir, e.Name()), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := s.ok(t, "apply", "-f", dir)
	if strings.Count(r.stdout, " created") != 5 || !strings.Contains(r.stderr, "aws-s3-store is Ready") || !strings.Contains(r.stderr, "federated-bucket is Bound") {
		t.Fatalf("apply the guide's manifests:\n%s%s", r.stdout, r.stderr)
	}

	addr := freeAddr(t)
	s.serve(t, addr)
	e := s.env(t, "obc", "status", "federated-bucket")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(awsBin, append([]string{"--endpoint-url", e["AWS_ENDPOINT_URL"], "--region", "us-east-1"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+e["AWS_SECRET_ACCESS_KEY"],
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+s.home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	work := t.TempDir()
	movie := filepath.Join(work, "movie.mp4")
	writeRandom(t, movie, 256<<20)
	run("s3", "cp", "--only-show-errors", movie, "s3://"+e["BUCKET_NAME"]+"/movie.mp4")
	// The stand-in holds the Mirror's copy on "AWS".
	if n := countFiles(t, aws.Dir); n == 0 {
		t.Fatalf("no object reached the aws-s3 store's bucket")
	}

	// The "failure": the class drops the aws-s3 store, and AWS goes away.
	class := filepath.Join(dir, "03-bucketclass.yaml")
	raw, _ := os.ReadFile(class)
	if err := os.WriteFile(class, []byte(strings.Replace(string(raw), "      - aws-s3-store\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.ok(t, "apply", "-f", class); !strings.Contains(r.stdout, "bucketclass.noobaa.io/federated-bucket-class configured") {
		t.Errorf("apply the edited class: %s", r.stdout)
	}
	aws.Stop()
	back := filepath.Join(work, "back.mp4")
	run("s3", "cp", "--only-show-errors", "s3://"+e["BUCKET_NAME"]+"/movie.mp4", back)
	if !sameFile(t, movie, back) {
		t.Fatal("the movie copied back with AWS gone differs from the one copied in")
	}
}

func countFiles(t *testing.T, root string) int {
	t.Helper()
	n := 0
	_ = filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n++
		}
		return nil
	})
	return n
}
