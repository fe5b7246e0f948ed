//go:build !linux

package dir

import (
	"errors"
	"os"
)

type directIO struct{ mem, offset int }

func probeDirectIO(string) directIO { return directIO{} }

var errNoDirect = errors.New("direct I/O not possible")

func writeDirect(string, []byte, directIO, []byte) (*os.File, error) { return nil, errNoDirect }
