// Package outage makes stores of the local target fail for real and brings
// them back: a pv-pool folder moved away (every read and write then finds
// no volume, as when a PV is lost), with the owner recorded so that what a
// killed process left failed is undone by the next nb.
package outage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nbctl/nb/pkg/process"
)

// DownSuffix marks a pv-pool folder that nb verify moved away to make the
// store fail: <dir>/.<store>.nb-verify-down. It holds a file naming the
// process, so that a verify killed midway is undone by the next one.
const (
	DownSuffix = ".nb-verify-down"
	ownerFile  = ".nb-verify-owner"
)

// DownPath is where a pv-pool folder goes while verify fails it.
func DownPath(root string) string {
	return filepath.Join(filepath.Dir(root), "."+filepath.Base(root)+DownSuffix)
}

// IsDown reports whether verify has moved a pv-pool folder away.
func IsDown(root string) bool {
	_, err := os.Stat(DownPath(root))
	return err == nil
}

// FailFolder makes a pv-pool store really fail by moving its volume
// folders away (every read and write then finds no volume, as when a PV is
// lost); restore moves them back.
func FailFolder(root string) (restore func() error, err error) {
	down := DownPath(root)
	if _, err := os.Stat(down); err == nil {
		return nil, fmt.Errorf("%s is already moved away by another nb verify (%s): wait for it, or if none is running, move it back to %s", root, down, root)
	}
	if err := os.Rename(root, down); err != nil {
		return nil, fmt.Errorf("failing the store: %w", err)
	}
	_ = os.WriteFile(filepath.Join(down, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
	return func() error { return Restore(root) }, nil
}

// Restore moves a failed pv-pool folder back. If something re-created the
// folder meanwhile with empty volumes (another nb reconciling), those are
// removed first; a re-created folder holding files is left for a person.
func Restore(root string) error {
	down := DownPath(root)
	if _, err := os.Stat(down); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(root); err == nil {
		if n, err := countFiles(root); err != nil || n > 0 {
			return fmt.Errorf("cannot move %s back: %s was re-created and holds %d files; merge them by hand", down, root, n)
		}
		if err := os.RemoveAll(root); err != nil {
			return fmt.Errorf("cannot move %s back: %w", down, err)
		}
	}
	_ = os.Remove(filepath.Join(down, ownerFile))
	if err := os.Rename(down, root); err != nil {
		return fmt.Errorf("cannot move %s back to %s: %w", down, root, err)
	}
	return nil
}

// RestoreAbandoned moves back every folder under dataDir that a verify
// which is no longer running left moved away.
func RestoreAbandoned(dataDir string) error {
	var errs []error
	nss, _ := os.ReadDir(dataDir)
	for _, ns := range nss {
		if !ns.IsDir() {
			continue
		}
		entries, _ := os.ReadDir(filepath.Join(dataDir, ns.Name()))
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), DownSuffix)
			if !ok || !strings.HasPrefix(name, ".") {
				continue
			}
			down := filepath.Join(dataDir, ns.Name(), e.Name())
			if raw, err := os.ReadFile(filepath.Join(down, ownerFile)); err == nil {
				if pid, err := strconv.Atoi(string(raw)); err == nil && process.Alive(pid) {
					continue
				}
			}
			errs = append(errs, Restore(filepath.Join(dataDir, ns.Name(), name[1:])))
		}
	}
	return errors.Join(errs...)
}

func countFiles(root string) (int, error) {
	n := 0
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	return n, err
}
