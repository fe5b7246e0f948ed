// Command getpaths measures ways an HTTP server can send a large file's
// bytes, without nb in the way, for bench/getpaths.sh: what a cold
// 1 GiB GET costs on this machine when every 4 MiB block is checked
// against its CRC-32C before it is sent (what nb serve does) and when it
// is not (what versitygw's posix back end does: sendfile). It answers
// whether a cheaper verified path exists (docs/benchmarks.md, issue 15).
//
//	getpaths serve -file F -addr 127.0.0.1:PORT
//	getpaths get -url http://127.0.0.1:PORT/MODE -size N [-c 5] [-part-mib 8]
//
// Modes (the URL's path):
//
//	sendfile   the range by sendfile(2), unchecked
//	buffered   each block pread into a 4 MiB buffer, CRC-checked, written
//	check-send each block CRC-checked in pieces of ?piece= bytes (default
//	           256 KiB) read into a small buffer, then sent by sendfile
//	           from the page cache
//	direct     each block read by O_DIRECT into an aligned buffer,
//	           CRC-checked, written
//	splice-tee each block spliced from the page cache into pipes, a tee
//	           of them read for the CRC-32C (one copy), then the pipes
//	           spliced to the socket (Linux; the connection is hijacked)
//
// get fetches the file as the aws-sdk-go-v2 transfer manager does: -c
// concurrent ranged GETs of -part-mib MiB, into one buffer of the file's
// size, and prints MB/s.
package main

import (
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

const block = 4 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: getpaths serve|get [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		file := fs.String("file", "", "the file to serve")
		addr := fs.String("addr", "127.0.0.1:0", "where to listen")
		_ = fs.Parse(os.Args[2:])
		err = serve(*file, *addr)
	case "get":
		fs := flag.NewFlagSet("get", flag.ExitOnError)
		url := fs.String("url", "", "the URL to fetch")
		size := fs.Int64("size", 1<<30, "the file's size")
		conc := fs.Int("c", 5, "concurrent ranged GETs")
		part := fs.Int64("part-mib", 8, "range size in MiB")
		_ = fs.Parse(os.Args[2:])
		err = get(*url, *size, *conc, *part<<20)
	default:
		err = fmt.Errorf("unknown command %q: serve or get", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "getpaths:", err)
		os.Exit(1)
	}
}

// sums are the file's block CRCs, as a manifest holds them.
func sums(path string) ([]uint32, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	buf := make([]byte, block)
	var out []uint32
	var size int64
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			out = append(out, crc32.Checksum(buf[:n], castagnoli))
			size += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return out, size, nil
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

func serve(path, addr string) error {
	crcs, size, err := sums(path)
	if err != nil {
		return err
	}
	h := func(w http.ResponseWriter, r *http.Request) {
		lo, hi := int64(0), size
		if rg := r.Header.Get("Range"); rg != "" {
			var a, b int64
			if _, err := fmt.Sscanf(rg, "bytes=%d-%d", &a, &b); err != nil || a < 0 || b < a || b >= size {
				http.Error(w, "bad range", http.StatusRequestedRangeNotSatisfiable)
				return
			}
			lo, hi = a, b+1
		}
		if lo%block != 0 || (hi%block != 0 && hi != size) {
			http.Error(w, "ranges must start and end on 4 MiB blocks", http.StatusRequestedRangeNotSatisfiable)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(hi-lo, 10))
		if r.URL.Path == "/splice-tee" {
			w.Header().Set("Connection", "close") // it hijacks the connection
		}
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", lo, hi-1, size))
			w.WriteHeader(http.StatusPartialContent)
		}
		if err := send(w, r, path, crcs, lo, hi); err != nil {
			fmt.Fprintln(os.Stderr, "getpaths:", r.URL.Path, err)
		}
	}
	fmt.Println("serving", addr)
	return http.ListenAndServe(addr, http.HandlerFunc(h))
}

func send(w http.ResponseWriter, r *http.Request, path string, crcs []uint32, lo, hi int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	check := func(i int64, p []byte) error {
		if crc32.Checksum(p, castagnoli) != crcs[i] {
			return fmt.Errorf("block %d fails its CRC", i)
		}
		return nil
	}
	switch r.URL.Path {
	case "/sendfile":
		if _, err := f.Seek(lo, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(w, &io.LimitedReader{R: f, N: hi - lo})
		return err
	case "/buffered":
		buf := make([]byte, block)
		for off := lo; off < hi; off += block {
			p := buf[:min(block, hi-off)]
			if _, err := f.ReadAt(p, off); err != nil {
				return err
			}
			if err := check(off/block, p); err != nil {
				return err
			}
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return nil
	case "/check-send":
		piece, _ := strconv.Atoi(r.URL.Query().Get("piece"))
		if piece <= 0 {
			piece = 256 << 10
		}
		buf := make([]byte, piece)
		for off := lo; off < hi; off += block {
			n := min(block, hi-off)
			c := uint32(0)
			for p := int64(0); p < n; p += int64(piece) {
				q := buf[:min(int64(piece), n-p)]
				if _, err := f.ReadAt(q, off+p); err != nil {
					return err
				}
				c = crc32.Update(c, castagnoli, q)
			}
			if c != crcs[off/block] {
				return fmt.Errorf("block %d fails its CRC", off/block)
			}
			if _, err := f.Seek(off, io.SeekStart); err != nil {
				return err
			}
			if _, err := io.Copy(w, &io.LimitedReader{R: f, N: n}); err != nil {
				return err
			}
		}
		return nil
	case "/splice-tee":
		return spliceTee(w, f, crcs, lo, hi)
	case "/direct":
		df, buf, done, err := openDirect(path, block)
		if err != nil {
			return err
		}
		defer done()
		for off := lo; off < hi; off += block {
			n := min(block, hi-off)
			if m, err := df.ReadAt(buf, off); int64(m) < n {
				return fmt.Errorf("direct read at %d: %d bytes: %w", off, m, err)
			}
			if err := check(off/block, buf[:n]); err != nil {
				return err
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", r.URL.Path)
}

func get(url string, size int64, conc int, part int64) error {
	out := make([]byte, size)
	jobs := make(chan int64)
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range jobs {
				end := min(off+part, size)
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, end-1))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, err = io.ReadFull(resp.Body, out[off:end])
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusPartialContent {
					errs <- fmt.Errorf("GET %s at %d: %s: %v", url, off, resp.Status, err)
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for off := int64(0); off < size; off += part {
			select {
			case jobs <- off:
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Printf("%.0f MB/s\n", float64(size)/time.Since(start).Seconds()/1e6)
	return nil
}
