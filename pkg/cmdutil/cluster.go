package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/kube"
)

// DefaultRequestTimeout bounds each API call unless --request-timeout says
// otherwise, so that an unreachable API server fails fast.
const DefaultRequestTimeout = "30s"

// NewConfigFlags returns kubectl's --kubeconfig, --context, -n and
// --request-timeout, without the flags nb has no use for.
func NewConfigFlags() *genericclioptions.ConfigFlags {
	cf := genericclioptions.NewConfigFlags(true)
	timeout := DefaultRequestTimeout
	cf.Timeout = &timeout
	cf.CacheDir, cf.Impersonate, cf.ImpersonateUID, cf.ImpersonateGroup = nil, nil, nil, nil
	cf.AuthInfoName, cf.ClusterName, cf.CertFile, cf.KeyFile, cf.CAFile = nil, nil, nil, nil, nil
	cf.BearerToken, cf.Username, cf.Password, cf.TLSServerName, cf.APIServer = nil, nil, nil, nil, nil
	cf.Insecure, cf.DisableCompression = nil, nil
	return cf
}

// BindCluster points f.Namespace and f.KubeClient at the config flags.
// The namespace is the flag's, else the kubeconfig context's, else
// NooBaa's default "noobaa".
func BindCluster(f *Factory, cf *genericclioptions.ConfigFlags, flags *pflag.FlagSet) {
	f.Namespace = func() (string, error) {
		if fl := flags.Lookup("namespace"); fl != nil && fl.Changed {
			return *cf.Namespace, nil
		}
		loader := cf.ToRawKubeConfigLoader()
		raw, err := loader.RawConfig()
		if err != nil {
			return nbv1.DefaultNamespace, nil
		}
		name := raw.CurrentContext
		if cf.Context != nil && *cf.Context != "" {
			name = *cf.Context
		}
		if c := raw.Contexts[name]; c != nil && c.Namespace != "" {
			return c.Namespace, nil
		}
		return nbv1.DefaultNamespace, nil
	}
	var client *kube.Client
	f.KubeClient = func() (*kube.Client, error) {
		if client != nil {
			return client, nil
		}
		if _, err := time.ParseDuration(*cf.Timeout); err != nil {
			return nil, exitcode.Usagef("--request-timeout", "invalid duration %q: use e.g. 30s or 1m", *cf.Timeout)
		}
		if !hasClusterConfig(cf) {
			return nil, errors.New("no Kubernetes cluster is configured: no kubeconfig was found (KUBECONFIG, ~/.kube/config) and nb is not running in a pod; pass --kubeconfig, or set KUBECONFIG")
		}
		cfg, err := cf.ToRESTConfig()
		if err != nil {
			return nil, fmt.Errorf("no usable Kubernetes configuration (%v): pass --kubeconfig or set KUBECONFIG", err)
		}
		c, err := kube.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		client = c
		return c, nil
	}
}

// StaticClient returns a KubeClient func for a fixed REST config (tests).
func StaticClient(cfg *rest.Config) func() (*kube.Client, error) {
	return func() (*kube.Client, error) { return kube.NewClient(cfg) }
}

// hasClusterConfig reports whether a kubeconfig names a cluster, or nb
// runs inside a pod; otherwise client-go would quietly try localhost:8080.
func hasClusterConfig(cf *genericclioptions.ConfigFlags) bool {
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return true
	}
	raw, err := cf.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return true // let ToRESTConfig report what is wrong with it
	}
	return len(raw.Clusters) > 0
}
