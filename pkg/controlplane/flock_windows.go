//go:build windows

package controlplane

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// flock takes a lock on f's first byte: shared or exclusive, waiting for
// it or not. errLocked: another process holds a conflicting lock.
func flock(f *os.File, exclusive, wait bool) error {
	var flags uint32
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &windows.Overlapped{})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}
