package cmdutil

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/config"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
)

// Factory carries the dependencies commands need. It is built once in two
// steps, NewFactory (the process) and Bind (the flags of the root command
// that select the target), and passed down; there is no package-level
// state. A test builds its own, with the functions it needs set.
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

// NewFactory returns a factory wired to the real process environment;
// Bind completes it with the root command's flags.
func NewFactory() *Factory {
	return &Factory{
		IOStreams:  iostreams.System(),
		Executable: os.Args[0],
		Getenv:     os.Getenv,
		ReadFile:   os.ReadFile,
	}
}

// Bind registers the flags every command shares on root (the cluster
// flags, --target and --state-dir, --config and --color), points
// Namespace, KubeClient and Local at the target they select unless the
// caller set them (a test's cluster client is a cluster's: Local is then
// none), and applies the configuration file and NB_* environment once the
// command line is parsed (Config, Settings, colour). Besides NewFactory it
// is the only place that fills the factory.
func (f *Factory) Bind(root *cobra.Command) {
	cf := NewConfigFlags()
	cf.AddFlags(root.PersistentFlags())
	root.PersistentFlags().Lookup("namespace").Usage = `the namespace NooBaa runs in (default: the kubeconfig context's, else "noobaa")`
	tf := &TargetFlags{}
	tf.AddFlags(root.PersistentFlags())
	gf := &GlobalFlags{}
	gf.AddFlags(root)
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		return gf.Apply(f, c)
	}
	t := bindTarget(f.IOStreams, f.Getenv, cf, tf, root.PersistentFlags())
	if f.Namespace == nil {
		f.Namespace = t.namespace
	}
	if f.KubeClient == nil {
		f.KubeClient, f.Local = t.client, t.local
	}
	if f.Local == nil {
		f.Local = func() (*controlplane.ControlPlane, error) { return nil, nil }
	}
}
