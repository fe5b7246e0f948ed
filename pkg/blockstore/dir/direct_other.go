//go:build !linux

package dir

import (
	"errors"
	"os"
)

type directIO struct{ mem, offset int }

func probeDirectIO(string) directIO { return directIO{} }

var errNoDirect = errors.New("direct I/O not possible")

func (directIO) aligned([]byte, int64) bool { return false }

func openDirect(string, int) (*os.File, error) { return nil, errNoDirect }

func writeDirect(string, []byte, directIO, []byte) (*os.File, error) { return nil, errNoDirect }

func writeAtDirect(*os.File, []byte, int64, directIO, []byte) error { return errNoDirect }
