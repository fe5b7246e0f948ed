// Package exitcode holds nb's exit codes and the error types that select
// them, so that every layer (validation, credentials, cluster, data path) can
// say what kind of failure it hit and main maps it to a code in one place.
package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, documented in the README and used by every command.
const (
	OK          = 0
	Failed      = 1
	Usage       = 2
	Rejected    = 3
	Timeout     = 4
	Interrupted = 130
)

// UsageError is bad input: an unknown flag, a missing argument or a value
// that fails validation. It exits with Usage.
type UsageError struct {
	// Flag names the flag or argument at fault, e.g. "--num-volumes".
	Flag string
	Err  error
}

func (e *UsageError) Error() string {
	if e.Flag == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %s", e.Flag, e.Err.Error())
}

func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError about flag.
func Usagef(flag, format string, args ...any) error {
	return &UsageError{Flag: flag, Err: fmt.Errorf(format, args...)}
}

// RejectedError means a resource was rejected or a verification failed.
// It exits with Rejected.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// TimeoutError means nb gave up waiting. It exits with Timeout.
type TimeoutError struct{ Err error }

func (e *TimeoutError) Error() string { return e.Err.Error() }
func (e *TimeoutError) Unwrap() error { return e.Err }

// SilentError carries an exit code for a failure already reported.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Of maps an error returned by a command to the process exit code.
func Of(err error) int {
	var (
		usage    *UsageError
		rejected *RejectedError
		timeout  *TimeoutError
		silent   *SilentError
	)
	switch {
	case err == nil:
		return OK
	case errors.As(err, &silent):
		return silent.Code
	case errors.Is(err, context.Canceled):
		return Interrupted
	case errors.As(err, &usage):
		return Usage
	case errors.As(err, &rejected):
		return Rejected
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return Timeout
	default:
		return Failed
	}
}
