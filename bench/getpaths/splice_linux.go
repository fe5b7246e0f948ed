package main

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"

	"golang.org/x/sys/unix"
)

// spliceTee sends [lo, hi) of f over w's connection without copying the
// bytes it sends through user memory, after checking them: each 4 MiB
// block is spliced from the page cache into pipes (page references, no
// copy), tee'd into one more pipe that is read (the one copy) for the
// CRC-32C, and only once the block's CRC matched are the first pipes
// spliced to the socket. The bytes sent are the pages checked (the pipes
// hold them). The connection is hijacked (the response says
// Connection: close).
func spliceTee(w http.ResponseWriter, f *os.File, crcs []uint32, lo, hi int64) (err error) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := rw.Flush(); err != nil {
		return err
	}
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return errors.New("not a TCP connection")
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var sfd int
	if err := raw.Control(func(fd uintptr) { sfd = int(fd) }); err != nil {
		return err
	}
	if err := unix.SetNonblock(sfd, false); err != nil {
		return err
	}
	const piece = 1 << 20
	newPipe := func() ([2]int, error) {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return p, err
		}
		if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, piece); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return p, fmt.Errorf("F_SETPIPE_SZ: %w", err)
		}
		return p, nil
	}
	var pipes [block / piece][2]int
	var all [][2]int
	defer func() {
		for _, p := range all {
			unix.Close(p[0])
			unix.Close(p[1])
		}
	}()
	for i := range pipes {
		if pipes[i], err = newPipe(); err != nil {
			return err
		}
		all = append(all, pipes[i])
	}
	tee, err := newPipe()
	if err != nil {
		return err
	}
	// The read end belongs to teeR (closed by it, never by number).
	teeR := os.NewFile(uintptr(tee[0]), "tee")
	defer teeR.Close()
	defer unix.Close(tee[1])
	buf := make([]byte, piece)
	ffd := int(f.Fd())
	for off := lo; off < hi; off += block {
		n := min(int64(block), hi-off)
		c, k := uint32(0), 0
		var sizes [block / piece]int
		for p := int64(0); p < n; p += piece {
			m := int(min(piece, n-p))
			o := off + p
			for got := 0; got < m; {
				s, err := unix.Splice(ffd, &o, pipes[k][1], nil, m-got, unix.SPLICE_F_MOVE)
				if err != nil {
					return fmt.Errorf("splice in: %w", err)
				}
				if s == 0 {
					return io.ErrUnexpectedEOF
				}
				got += int(s)
			}
			// tee does not consume its source: one call must take it all.
			if s, err := unix.Tee(pipes[k][0], tee[1], m, 0); err != nil || int(s) != m {
				return fmt.Errorf("tee %d of %d: %v", s, m, err)
			}
			if _, err := io.ReadFull(teeR, buf[:m]); err != nil {
				return err
			}
			c = crc32.Update(c, castagnoli, buf[:m])
			sizes[k] = m
			k++
		}
		if c != crcs[off/block] {
			return fmt.Errorf("block %d fails its CRC", off/block)
		}
		for j := 0; j < k; j++ {
			for sent := 0; sent < sizes[j]; {
				s, err := unix.Splice(pipes[j][0], nil, sfd, nil, sizes[j]-sent, unix.SPLICE_F_MOVE)
				if err != nil {
					return fmt.Errorf("splice out: %w", err)
				}
				sent += int(s)
			}
		}
	}
	return nil
}
