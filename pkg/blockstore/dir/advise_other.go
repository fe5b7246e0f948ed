//go:build !linux

package dir

import "os"

// adviseSequential is a no-op where fadvise does not exist.
func adviseSequential(*os.File, int64) {}

func allocated(info os.FileInfo) int64 { return info.Size() }

func datasync(f *os.File) error { return f.Sync() }
