package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
)

// DefaultRequestTimeout bounds each API call unless --request-timeout says
// otherwise, so that an unreachable API server fails fast.
const DefaultRequestTimeout = "30s"

// ConfigFlags are kubectl's --kubeconfig, --context, -n/--namespace and
// --request-timeout, bound with client-go's clientcmd flag definitions (the
// ones cli-runtime's ConfigFlags wraps). nb binds them itself because
// cli-runtime's genericclioptions package links every built-in API group
// and kustomize: 40 MB of binary and of resident memory in every nb run.
type ConfigFlags struct {
	KubeConfig string
	Overrides  clientcmd.ConfigOverrides

	loader clientcmd.ClientConfig
}

// NewConfigFlags returns the cluster flags with nb's request timeout.
func NewConfigFlags() *ConfigFlags {
	return &ConfigFlags{Overrides: clientcmd.ConfigOverrides{Timeout: DefaultRequestTimeout}}
}

// AddFlags registers the flags.
func (cf *ConfigFlags) AddFlags(flags *pflag.FlagSet) {
	flags.StringVar(&cf.KubeConfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests.")
	rec := clientcmd.RecommendedConfigOverrideFlags("")
	rec.CurrentContext.BindStringFlag(flags, &cf.Overrides.CurrentContext)
	rec.ContextOverrideFlags.Namespace.BindStringFlag(flags, &cf.Overrides.Context.Namespace)
	rec.Timeout.Default = DefaultRequestTimeout
	rec.Timeout.BindStringFlag(flags, &cf.Overrides.Timeout)
}

// ToRawKubeConfigLoader is the kubeconfig as the flags select it.
func (cf *ConfigFlags) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	if cf.loader == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = cf.KubeConfig
		rules.WarnIfAllMissing = false
		cf.loader = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &cf.Overrides)
	}
	return cf.loader
}

// ToRESTConfig is the REST configuration of the selected cluster.
func (cf *ConfigFlags) ToRESTConfig() (*rest.Config, error) {
	return cf.ToRawKubeConfigLoader().ClientConfig()
}

// Targets nb can work on.
const (
	TargetAuto  = "auto"
	TargetLocal = "local"
	TargetKube  = "kube"
)

// TargetFlags are --target, --state-dir and how a new state directory
// is set up.
type TargetFlags struct {
	Target   string
	StateDir string
	// ManualDefaultBackingStore leaves the default backing store and
	// bucket class out of a new state directory.
	ManualDefaultBackingStore bool
}

// AddFlags registers the target flags.
func (t *TargetFlags) AddFlags(flags *pflag.FlagSet) {
	flags.StringVar(&t.Target, "target", "", `where nb works: "kube" (the cluster of the kubeconfig), "local" (the embedded control plane), or "auto": kube when a kubeconfig names a cluster, else local (default auto, or $NB_TARGET)`)
	flags.StringVar(&t.StateDir, "state-dir", "", "the local target's state directory (default $NB_STATE_DIR, else $XDG_STATE_HOME/nb, else ~/.local/state/nb)")
	flags.BoolVar(&t.ManualDefaultBackingStore, "manual-default-backing-store", false, "when nb sets up a new state directory, make no noobaa-default-backing-store and noobaa-default-bucket-class (as noobaa install --manual-default-backing-store)")
}

// target is what the target flags select: the namespace, the client and,
// on the local target, its control plane.
type target struct {
	namespace func() (string, error)
	client    func() (*kube.Client, error)
	local     func() (*controlplane.ControlPlane, error)
}

// bindTarget returns the selected target's namespace, client and control
// plane: a cluster through the config flags, or the local control plane.
// The first client announces the target on stderr in one line.
func bindTarget(ios *iostreams.IOStreams, getenv func(string) string, cf *ConfigFlags, tf *TargetFlags, flags *pflag.FlagSet) target {
	if getenv == nil {
		getenv = os.Getenv
	}
	var f target
	// NB_TARGET and NB_STATE_DIR reach tf through the configuration layer
	// (GlobalFlags.Apply), which also names them in its errors.
	changed := func(name string) bool {
		fl := flags.Lookup(name)
		return fl != nil && fl.Changed
	}
	// clusterFlag is the first flag given that only means something on a
	// cluster: with it, auto picks the cluster, and local refuses it
	// rather than ignore it.
	clusterFlag := func() string {
		for _, name := range []string{"kubeconfig", "context", "cluster", "user", "server", "token"} {
			if changed(name) {
				return name
			}
		}
		return ""
	}
	resolve := func() (string, error) {
		if changed("request-timeout") {
			if _, err := time.ParseDuration(cf.Overrides.Timeout); err != nil {
				return "", exitcode.Usagef("--request-timeout", "invalid duration %q: use e.g. 30s or 1m", cf.Overrides.Timeout)
			}
		}
		t := tf.Target
		switch t {
		case "", TargetAuto:
			if clusterFlag() != "" || hasClusterConfig(cf) {
				return TargetKube, nil
			}
			return TargetLocal, nil
		case TargetLocal:
			if name := clusterFlag(); name != "" {
				return "", exitcode.Usagef("--"+name, "the local target has no cluster to apply it to: leave it out, or use --target kube")
			}
			return t, nil
		case TargetKube:
			return t, nil
		}
		return "", exitcode.Usagef("--target", "%q is not a target: use auto, local or kube", t)
	}
	namespaceFlag := func() (string, bool) {
		if changed("namespace") {
			return cf.Overrides.Context.Namespace, true
		}
		return "", false
	}
	f.namespace = func() (string, error) {
		if ns, ok := namespaceFlag(); ok {
			if err := manifest.ValidateNamespace("--namespace", ns); err != nil {
				return "", err
			}
			return ns, nil
		}
		t, err := resolve()
		if err != nil {
			return "", err
		}
		if t == TargetLocal {
			return nbv1.DefaultNamespace, nil
		}
		return kubeconfigNamespace(cf), nil
	}
	var client *kube.Client
	var local *controlplane.ControlPlane
	f.local = func() (*controlplane.ControlPlane, error) {
		if local != nil {
			return local, nil
		}
		t, err := resolve()
		if err != nil || t != TargetLocal {
			return nil, err
		}
		dir := tf.StateDir
		if dir == "" {
			if dir, err = controlplane.DefaultDir(getenv); err != nil {
				return nil, err
			}
		}
		cp, err := controlplane.OpenWith(dir, controlplane.Options{ManualDefaultBackingStore: tf.ManualDefaultBackingStore, Getenv: getenv})
		if err != nil {
			return nil, fmt.Errorf("local target: %w", err)
		}
		local = cp
		fmt.Fprintf(ios.ErrOut, "nb: local target, state in %s\n", cp.Dir)
		return cp, nil
	}
	f.client = func() (*kube.Client, error) {
		if client != nil {
			return client, nil
		}
		cp, err := f.local()
		if err != nil {
			return nil, err
		}
		if cp != nil {
			client = cp.Client()
			return client, nil
		}
		c, err := kubeClient(cf)
		if err != nil {
			return nil, err
		}
		client = c
		ns, _ := f.namespace()
		fmt.Fprintf(ios.ErrOut, "nb: cluster %s, namespace %s\n", c.Host, ns)
		return c, nil
	}
	return f
}

// kubeconfigNamespace is the kubeconfig context's namespace, else
// NooBaa's default "noobaa".
func kubeconfigNamespace(cf *ConfigFlags) string {
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nbv1.DefaultNamespace
	}
	name := raw.CurrentContext
	if cf.Overrides.CurrentContext != "" {
		name = cf.Overrides.CurrentContext
	}
	if c := raw.Contexts[name]; c != nil && c.Namespace != "" {
		return c.Namespace
	}
	return nbv1.DefaultNamespace
}

// kubeClient builds the cluster client of the config flags.
func kubeClient(cf *ConfigFlags) (*kube.Client, error) {
	if _, err := time.ParseDuration(cf.Overrides.Timeout); err != nil {
		return nil, exitcode.Usagef("--request-timeout", "invalid duration %q: use e.g. 30s or 1m", cf.Overrides.Timeout)
	}
	if !hasClusterConfig(cf) {
		return nil, errors.New("no Kubernetes cluster is configured: no kubeconfig was found (KUBECONFIG, ~/.kube/config) and nb is not running in a pod; pass --kubeconfig, set KUBECONFIG, or use --target local")
	}
	cfg, err := cf.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no usable Kubernetes configuration (%v): pass --kubeconfig or set KUBECONFIG", err)
	}
	return kube.NewClient(cfg)
}

// StaticClient returns a KubeClient func for a fixed REST config (tests).
func StaticClient(cfg *rest.Config) func() (*kube.Client, error) {
	return func() (*kube.Client, error) { return kube.NewClient(cfg) }
}

// hasClusterConfig reports whether a kubeconfig names a cluster, or nb
// runs inside a pod; otherwise client-go would quietly try localhost:8080.
func hasClusterConfig(cf *ConfigFlags) bool {
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return true
	}
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return true // let ToRESTConfig report what is wrong with it
	}
	return len(raw.Clusters) > 0
}
