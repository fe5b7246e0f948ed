//go:build unix

package controlplane

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// flock takes an advisory lock on f: shared or exclusive, waiting for it
// or not. errLocked: another process holds a conflicting lock.
func flock(f *os.File, exclusive, wait bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errLocked
		}
		return err
	}
}
