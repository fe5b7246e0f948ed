package cmdutil

import (
	"os"

	"github.com/nbctl/nb/pkg/iostreams"
)

// Factory carries the dependencies commands need. It is built once in
// main and passed down; there is no package-level state.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Getenv reads the environment (credentials, configuration).
	Getenv func(string) string
	// ReadFile reads a file named on the command line.
	ReadFile func(string) ([]byte, error)
	// Namespace returns the namespace commands work in.
	Namespace func() (string, error)
}

// NewFactory returns a factory wired to the real process environment.
func NewFactory() *Factory {
	return &Factory{
		IOStreams: iostreams.System(),
		Getenv:    os.Getenv,
		ReadFile:  os.ReadFile,
		Namespace: func() (string, error) { return "noobaa", nil },
	}
}
