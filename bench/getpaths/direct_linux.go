package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// openDirect opens path for O_DIRECT reads, with a page-aligned buffer of
// n bytes (an anonymous mapping) to read into; done closes both.
func openDirect(path string, n int) (f *os.File, buf []byte, done func(), err error) {
	buf, err = unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err = os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		_ = unix.Munmap(buf)
		return nil, nil, nil, err
	}
	return f, buf, func() { f.Close(); _ = unix.Munmap(buf) }, nil
}
