package cmdutil

import (
	"errors"
	"io/fs"

	"github.com/nbctl/nb/pkg/exitcode"
)

// ReadFlagFile reads the file a flag names; a failure is a usage error
// naming the flag and the cause ("no such file or directory").
func ReadFlagFile(read func(string) ([]byte, error), flag, path string) ([]byte, error) {
	raw, err := read(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, exitcode.Usagef(flag, "cannot read %s: %v", path, err)
	}
	return raw, nil
}
