//go:build !unix

package process

import "os"

// Alive reports whether a process with this pid exists (on
// Windows FindProcess opens the process, and fails when it is gone).
func Alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
