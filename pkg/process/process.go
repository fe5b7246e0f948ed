// Package process tells whether another process is still running: what
// nb uses to tell files a live process owns (a temporary file being
// written, a store a running verify has failed) from what a killed one
// left behind.
package process
