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
