//go:build unix

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestServeChaos runs nb serve under load from several writers for a
// number of rounds (NB_TEST_CHAOS_ROUNDS, default 4; bench/chaos.sh runs
// more), each with one fault: the server killed with SIGKILL and
// restarted, a Mirror store taken away and brought back, a block on one
// store damaged, or the class changed (its second store swapped between
// pv2 and pv3, the data moved by the server). The class is always a Mirror
// over two pv-pool stores and there is never more than one fault at a time
// (the loop heals and rebalances, and a scrub repairs damage, before the
// next), so the policy promises every acknowledged object survives: each
// must read back byte-identical after every round, and no scrub may find
// an object lost.
func TestServeChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("kills nb serve and damages its stores")
	}
	rounds := 4
	if v := os.Getenv("NB_TEST_CHAOS_ROUNDS"); v != "" {
		fmt.Sscanf(v, "%d", &rounds)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	s := newState(t)
	mirrorSetup(t, s)
	addr := freeAddr(t)
	serve := func() *server { return s.serve(t, addr, "--care-every", "300ms") }
	srv := serve()
	e := s.env(t, "obc", "status", "c1")
	bucket := e["BUCKET_NAME"]
	client := func() *s3.Client { return s3client("http://"+addr, e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"]) }
	ctx := context.Background()

	const writers, keysPer = 3, 4
	acked := map[string]int{}   // key → last acknowledged version (0: none)
	attempt := map[string]int{} // key → version being put
	var mu sync.Mutex
	var puts, reads, kills, outages, damages, changes, lost int
	s.ok(t, "backingstore", "create", "pv-pool", "pv3", "--num-volumes", "1", "--pv-size-gb", "16")
	second := "pv2" // the class's second store

	for round := 0; round < rounds; round++ {
		fault := []string{"kill", "outage", "damage", "class"}[rng.IntN(4)]
		pv2 := filepath.Join(s.dir, "data", "noobaa", second)
		c := client()
		stop := make(chan struct{})
		failures := make(chan error, writers)
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("w%d/k%d", w, i%keysPer)
					mu.Lock()
					v := attempt[key] + 1
					attempt[key] = v
					mu.Unlock()
					if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(chaosBody(key, v))}); err != nil {
						failures <- fmt.Errorf("put %s v%d: %w", key, v, err)
						return
					}
					mu.Lock()
					acked[key], puts = v, puts+1
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		switch fault {
		case "kill":
			kills++
			_ = srv.cmd.Process.Signal(syscall.SIGKILL)
			<-srv.done
			close(stop)
			wg.Wait()
			srv = serve()
		case "outage":
			outages++
			if err := os.Rename(pv2, pv2+".away"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
			if err := os.Rename(pv2+".away", pv2); err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond)
			close(stop)
			wg.Wait()
		case "class":
			changes++
			second = map[string]string{"pv2": "pv3", "pv3": "pv2"}[second]
			s.ok(t, "bucketclass", "update", "mirror", "--placement", "Mirror", "--backingstores", "pv1,"+second)
			time.Sleep(time.Duration(200+rng.IntN(500)) * time.Millisecond)
			close(stop)
			wg.Wait()
		case "damage":
			damages++
			store := []string{"pv1", second}[rng.IntN(2)]
			files := storeBlocks(t, filepath.Join(s.dir, "data", "noobaa", store))
			if len(files) > 0 {
				f := files[rng.IntN(len(files))]
				if info, err := os.Stat(f); err == nil && info.Size() > 0 {
					garble(t, f, rng.Int64N(info.Size()), rng)
				}
			}
			close(stop)
			wg.Wait()
		}
		close(failures)
		for err := range failures {
			if fault != "kill" {
				t.Fatalf("round %d (%s): %v", round, fault, err)
			}
		}

		// Every key: absent only if never acknowledged; else the last
		// acknowledged version, or (after a kill) the one in flight.
		c = client()
		for w := 0; w < writers; w++ {
			for k := 0; k < keysPer; k++ {
				key := fmt.Sprintf("w%d/k%d", w, k)
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
				if errCode(err) == "NoSuchKey" {
					if acked[key] > 0 {
						t.Fatalf("round %d (%s): %s acknowledged at version %d is gone", round, fault, key, acked[key])
					}
					continue
				}
				if err != nil {
					t.Fatalf("round %d (%s): get %s: %v", round, fault, key, err)
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil {
					t.Fatalf("round %d (%s): read %s: %v", round, fault, key, err)
				}
				reads++
				ok := false
				for _, v := range []int{acked[key], attempt[key]} {
					if v > 0 && bytes.Equal(got, chaosBody(key, v)) {
						ok, acked[key] = true, v
					}
				}
				if !ok {
					t.Fatalf("round %d (%s): %s holds %d bytes that are neither version %d (acknowledged) nor %d (in flight)", round, fault, key, len(got), acked[key], attempt[key])
				}
				attempt[key] = acked[key]
			}
		}

		// Before the next fault: heal what the outage left degraded, and
		// scrub away what the damage did (one fault at a time).
		deadline := time.Now().Add(60 * time.Second)
		for {
			degraded, misplaced, policy := bucketState(t, s)
			if degraded == 0 && misplaced == 0 && policy == "Mirror over pv1,"+second {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d (%s): a minute later %d object(s) degraded, %d misplaced (%s)\n%s", round, fault, degraded, misplaced, policy, srv.stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
		r := s.run(t, "bucket", "scrub", "c1", "-o", "json")
		var reps []struct{ Lost []string }
		if err := json.Unmarshal([]byte(r.stdout), &reps); err != nil {
			t.Fatalf("round %d: scrub: exit %d %v\n%s%s", round, r.code, err, r.stdout, r.stderr)
		}
		for _, rep := range reps {
			lost += len(rep.Lost)
		}
		if r.code != 0 || lost > 0 {
			t.Fatalf("round %d (%s): the scrub found objects lost that the policy promised: exit %d\n%s%s", round, fault, r.code, r.stdout, r.stderr)
		}
	}
	t.Logf("chaos: %d rounds, %d PUTs acknowledged, %d reads checked, faults: %d kills, %d store outages, %d damaged blocks, %d class changes; %d objects lost",
		rounds, puts, reads, kills, outages, damages, changes, lost)
	if puts == 0 {
		t.Errorf("no PUT was acknowledged: the test tested nothing")
	}
	srv.stop(t)
}

// chaosBody is version v of key: up to 6 MiB, so that objects span
// chunks, and every other version up to 64 KiB, so that it goes to packs.
func chaosBody(key string, v int) []byte {
	size := (v*7919+len(key)*104729)%(6<<20) + 1
	if v%2 == 1 {
		size = size%(64<<10) + 1
	}
	b := make([]byte, size)
	x := uint64(v)*1000003 + uint64(len(key))*31 + uint64(key[len(key)-1])
	for i := range b {
		x = x*6364136223846793005 + 1442695040888963407
		b[i] = byte(x >> 56)
	}
	return b
}

func storeBlocks(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && strings.Contains(p, "/blocks/") && !strings.Contains(filepath.Base(p), "~tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// garble overwrites 64 bytes at off with random ones.
func garble(t *testing.T, path string, off int64, rng *rand.Rand) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return // deleted meanwhile (a replaced version collected)
	}
	defer f.Close()
	junk := make([]byte, 64)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	_, _ = f.WriteAt(junk, off)
}

func bucketState(t *testing.T, s *state) (degraded, misplaced int64, policy string) {
	t.Helper()
	var st struct {
		Degraded, Misplaced int64
		Policy              string
	}
	r := s.ok(t, "bucket", "status", "c1", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatal(err)
	}
	return st.Degraded, st.Misplaced, st.Policy
}
