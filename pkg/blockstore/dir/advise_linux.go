package dir

import (
	"os"

	"golang.org/x/sys/unix"
)

// adviseSequential asks the kernel to read ahead the whole block.
func adviseSequential(f *os.File, size int64) {
	_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_SEQUENTIAL)
}
