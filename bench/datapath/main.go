// Command datapath measures nb's data path on local dir stores: Mirror
// write and read of a file, Spread and erasure-coded Spread writes, and the
// process's peak RSS. bench/datapath.sh runs it next to a cp baseline.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/nbctl/nb/pkg/blockstore"
	"github.com/nbctl/nb/pkg/blockstore/dir"
	"github.com/nbctl/nb/pkg/placement"
)

func main() {
	file := flag.String("file", "", "the file to store")
	root := flag.String("root", "", "where the stores live (emptied first)")
	mode := flag.String("mode", "mirror", "mirror-write, read, spread-write, ec-write, stream (write+read of a generated object), "+
		"read-object (an object of an nb state dir: -state, -bucket, -key), sha256 (one core's SHA-256 rate, in memory)")
	state := flag.String("state", "", "-mode read-object: the nb state directory (NB_STATE_DIR)")
	bucket := flag.String("bucket", "", "-mode read-object: the bucket")
	key := flag.String("key", "", "-mode read-object: the key")
	size := flag.Int64("size", 4<<30, "object size for -mode stream")
	par := flag.Int("parallel", placement.DefaultParallelism, "chunks in flight")
	noSync := flag.Bool("nosync", false, "skip fsync (to measure what syncing costs)")
	volumes := flag.Int("volumes", 1, "volumes per dir store (a pv-pool's numVolumes)")
	noExtents := flag.Bool("noextents", false, "write a file per block instead of extents (the layout before extents)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	hashRead := flag.String("sha256", "", "-mode read, read-object: \"whole\" also takes one SHA-256 of what is read (one core)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "datapath:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	switch *mode {
	case "read-object":
		err = readObject(*state, *bucket, *key, *hashRead)
	case "sha256":
		err = shaRate()
	default:
		err = run(*mode, *file, *root, *size, *par, *volumes, *noSync, *noExtents, *hashRead)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "datapath:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func engine(root string, stores, volumes int, noSync bool) (*placement.Engine, []string, error) {
	meta, err := placement.OpenMeta(filepath.Join(root, "meta.db"))
	if err != nil {
		return nil, nil, err
	}
	e := &placement.Engine{Stores: map[string]blockstore.Store{}, Meta: meta}
	var names []string
	for i := 0; i < stores; i++ {
		name := fmt.Sprintf("pv%d", i)
		s, err := dir.Open(name, filepath.Join(root, name), volumes, 0)
		if err != nil {
			return nil, nil, err
		}
		s.NoSync = noSync
		e.Stores[name] = s
		names = append(names, name)
	}
	return e, names, nil
}

func run(mode, file, root string, size int64, par, volumes int, noSync, noExtents bool, hashRead string) error {
	ctx := context.Background()
	e, names, err := engine(root, 6, volumes, noSync)
	if err != nil {
		return err
	}
	e.Parallelism = par
	e.NoExtents = noExtents
	policies := map[string]placement.Policy{
		"mirror-write": {Tiers: []placement.Tier{{Placement: "Mirror", Stores: names[:2]}}},
		"read":         {Tiers: []placement.Tier{{Placement: "Mirror", Stores: names[:2]}}},
		"spread-write": {Tiers: []placement.Tier{{Placement: "Spread", Stores: names}}},
		"ec-write":     {Tiers: []placement.Tier{{Placement: "Spread", Stores: names, DataShards: 4, ParityShards: 2}}},
		"stream":       {Tiers: []placement.Tier{{Placement: "Mirror", Stores: names[:2]}}},
	}
	pol, ok := policies[mode]
	if !ok {
		return fmt.Errorf("unknown mode %q", mode)
	}
	start := time.Now()
	var n int64
	switch mode {
	case "read":
		var w countWriter
		out, err := hashing(&w, hashRead)
		if err != nil {
			return err
		}
		if _, _, err := e.Get(ctx, "bench", "obj", out); err != nil {
			return err
		}
		n = int64(w)
	case "stream":
		man, err := e.Put(ctx, "bench", "big", pol, io.LimitReader(pattern{}, size))
		if err != nil {
			return err
		}
		var w countWriter
		if _, err := e.ReadManifest(ctx, man, &w); err != nil {
			return err
		}
		n = 2 * int64(w)
	default:
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		man, err := e.Put(ctx, "bench", "obj", pol, f)
		if err != nil {
			return err
		}
		n = man.Size
	}
	el := time.Since(start)
	fmt.Printf("%s %d bytes %.3f s %.0f MB/s peak-rss %s\n", mode, n, el.Seconds(), float64(n)/el.Seconds()/1e6, peakRSS())
	return nil
}

// hashing returns w, or w and a hash of what is written to it.
func hashing(w io.Writer, how string) (io.Writer, error) {
	switch how {
	case "whole":
		return io.MultiWriter(w, sha256.New()), nil
	case "":
		return w, nil
	}
	return nil, fmt.Errorf("-sha256 %q: whole (or nothing)", how)
}

// readObject reads an object of an nb state dir's local data path (its
// pv-pool stores) as the data path does, with nothing else running: what
// a verify read-back is measured against, on the same object.
func readObject(state, bucket, key, how string) error {
	ctx := context.Background()
	data := filepath.Join(state, "data")
	meta, err := placement.OpenMeta(filepath.Join(data, "buckets.db"))
	if err != nil {
		return err
	}
	defer meta.Close()
	man, err := meta.Get(bucket, key)
	if err != nil {
		return err
	}
	e := &placement.Engine{Stores: map[string]blockstore.Store{}, Meta: meta}
	for _, c := range man.Chunks {
		for _, b := range c.Blocks {
			if e.Stores[b.Store] != nil {
				continue
			}
			stores, _ := filepath.Glob(filepath.Join(data, "*", b.Store))
			if len(stores) != 1 {
				return fmt.Errorf("store %q: %d folders of that name under %s", b.Store, len(stores), data)
			}
			vols, _ := filepath.Glob(filepath.Join(stores[0], "vol-*"))
			s, err := dir.Open(b.Store, stores[0], len(vols), 0)
			if err != nil {
				return err
			}
			e.Stores[b.Store] = s
		}
	}
	var w countWriter
	out, err := hashing(&w, how)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := e.ReadManifest(ctx, man, out); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("read-object %d bytes %.3f s %.0f MB/s peak-rss %s\n", int64(w), el.Seconds(), float64(w)/el.Seconds()/1e6, peakRSS())
	return nil
}

// shaRate is one core's SHA-256 rate on 1 GiB of bytes in memory (4 MiB
// writes, as a read-back hashes them).
func shaRate() error {
	buf := make([]byte, 4<<20)
	if _, err := io.ReadFull(rand.NewChaCha8([32]byte{1}), buf); err != nil {
		return err
	}
	h := sha256.New()
	const n = 256
	start := time.Now()
	for range n {
		h.Write(buf)
	}
	el := time.Since(start)
	fmt.Printf("sha256 %d bytes %.3f s %.0f MB/s\n", n*len(buf), el.Seconds(), float64(n*len(buf))/el.Seconds()/1e6)
	return nil
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// pattern is an endless cheap non-constant stream.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return len(p), nil
}

func peakRSS() string {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if s, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			return strings.Join(strings.Fields(s), "")
		}
	}
	return "?"
}
