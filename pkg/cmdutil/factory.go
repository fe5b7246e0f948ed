package cmdutil

import (
	"os"

	"github.com/nbctl/nb/pkg/config"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
)

// Factory carries the dependencies commands need. It is built once in
// main and passed down; there is no package-level state.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Executable is the name nb was run as (os.Args[0]): as kubectl-nb,
	// a kubectl plugin, its help says "kubectl nb".
	Executable string
	// Getenv reads the environment (credentials, configuration).
	Getenv func(string) string
	// ReadFile reads a file named on the command line.
	ReadFile func(string) ([]byte, error)
	// Namespace returns the namespace commands work in.
	Namespace func() (string, error)
	// KubeClient returns a client of the selected target: a cluster, or
	// the local control plane.
	KubeClient func() (*kube.Client, error)
	// Local returns the local control plane when the local target is
	// selected, nil on a cluster: verify reaches the data path through it.
	Local func() (*controlplane.ControlPlane, error)
	// Config is the configuration the running command was given (file and
	// environment), and Settings its effective values; both are set once
	// the command line is parsed.
	Config   *config.Config
	Settings []config.Value
}

// NewFactory returns a factory wired to the real process environment; the
// root command fills in Namespace and KubeClient from its flags.
func NewFactory() *Factory {
	return &Factory{
		IOStreams:  iostreams.System(),
		Executable: os.Args[0],
		Getenv:     os.Getenv,
		ReadFile:   os.ReadFile,
	}
}
