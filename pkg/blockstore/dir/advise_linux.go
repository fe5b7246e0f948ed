package dir

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// adviseSequential asks the kernel to read ahead the whole block.
func adviseSequential(f *os.File, size int64) {
	_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_SEQUENTIAL)
}

// allocated is the disk space a file takes (a sparse extent part takes
// less than its length).
func allocated(info os.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return info.Size()
}

// datasync makes a file's data (and the size it needs) durable, without
// the rest of its metadata.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
