package placement

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/dir"
)

const crashChunk = 64 << 10

func crashVersion(v int) []byte { return data(crashChunk*(1+v%5)+v*7, uint64(v)) }

func openCrashEngine(t testing.TB, root string) *Engine {
	meta, err := OpenMeta(filepath.Join(root, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]blockstore.Store{}
	for _, n := range []string{"pv1", "pv2"} {
		s, err := dir.Open(n, filepath.Join(root, n), 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		stores[n] = s
	}
	return &Engine{Stores: stores, Meta: meta, ChunkSize: crashChunk, Parallelism: 2}
}

// TestCrashWriterChild is the writer the crash test kills: it replaces
// one object with version after version, printing each commit.
func TestCrashWriterChild(t *testing.T) {
	root := os.Getenv("NB_CRASH_ROOT")
	if root == "" {
		t.Skip("run by TestCrashKeepsOldOrNewNeverTorn")
	}
	e := openCrashEngine(t, root)
	start, _ := strconv.Atoi(os.Getenv("NB_CRASH_START"))
	for v := start; ; v++ {
		fmt.Printf("writing %d\n", v)
		if _, err := e.Put(context.Background(), "bkt", "obj", mirror("pv1", "pv2"), bytes.NewReader(crashVersion(v))); err != nil {
			fmt.Printf("error %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("committed %d\n", v)
	}
}

// TestCrashKeepsOldOrNewNeverTorn kills a writer process at random points
// and checks that the object then reads as the last committed version or
// the one being written, byte for byte, never a mix.
func TestCrashKeepsOldOrNewNeverTorn(t *testing.T) {
	if os.Getenv("NB_CRASH_ROOT") != "" {
		t.Skip("child")
	}
	root := t.TempDir()
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	next := 1
	lastCommitted := 0
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "NB_CRASH_ROOT="+root, "NB_CRASH_START="+strconv.Itoa(next))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		time.Sleep(time.Duration(50+rnd.IntN(400)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		writing := lastCommitted
		for l := range lines {
			if v, ok := strings.CutPrefix(l, "committed "); ok {
				lastCommitted, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(l, "writing "); ok {
				writing, _ = strconv.Atoi(v)
			} else if strings.HasPrefix(l, "error") {
				t.Fatalf("writer: %s", l)
			}
		}
		e := openCrashEngine(t, root)
		var got bytes.Buffer
		man, _, err := e.Get(context.Background(), "bkt", "obj", &got)
		e.Meta.Close()
		switch {
		case errors.Is(err, ErrNoObject) && lastCommitted == 0:
		case err != nil:
			t.Fatalf("round %d: read after the crash: %v", round, err)
		case bytes.Equal(got.Bytes(), crashVersion(lastCommitted)):
		case writing > lastCommitted && bytes.Equal(got.Bytes(), crashVersion(writing)):
			lastCommitted = writing
		default:
			t.Fatalf("round %d: the object (%d bytes, id %s) is neither version %d nor %d", round, got.Len(), man.ObjectID, lastCommitted, writing)
		}
		next = writing + 1
	}
	if lastCommitted == 0 {
		t.Fatal("the writer never committed: the test proved nothing")
	}
	t.Logf("%d rounds, %d versions committed", rounds, lastCommitted)
}
