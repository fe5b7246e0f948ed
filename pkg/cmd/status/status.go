// Package status holds `nb status`: the system at a glance, and the admin
// account's S3 settings for a shell.
package status

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmd/resource"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/controlplane"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/server"
)

// Options are the inputs of `nb status`.
type Options struct {
	IO          *iostreams.IOStreams
	Local       func() (*controlplane.ControlPlane, error)
	KubeClient  func() (*kube.Client, error)
	Namespace   func() (string, error)
	Output      string
	ShowSecrets bool
}

// NewCmdStatus returns `nb status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Local: f.Local, KubeClient: f.KubeClient, Namespace: f.Namespace}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the system at a glance: S3 endpoint, admin account, stores, classes, claims",
		Long: heredoc.Doc(`
			Show where the system's S3 endpoint is (on the local target: whether nb serve runs,
			and where), NooBaa's admin account (the Secret noobaa-admin), and the stores, bucket
			classes and claims with their phases.

			-o env prints export lines for a shell: AWS_ENDPOINT_URL and, with --show-secrets,
			the admin account's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`),
		Example: heredoc.Doc(`
			nb status
			eval "$(nb status -o env --show-secrets)"; aws s3 ls`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o := opts.Output; o != "" && o != "env" {
				return exitcode.Usagef("--output", "%q is not supported: use env, or leave it out for a summary", o)
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", `output format: "" for a summary, or env (export lines for a shell)`)
	cmd.Flags().BoolVar(&opts.ShowSecrets, "show-secrets", false, "include the admin account's keys")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"env"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Run prints the status.
func (o *Options) Run(ctx context.Context) error {
	cp, err := o.Local()
	if err != nil {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	if cp != nil {
		if err := cp.Sync(ctx); err != nil {
			return err
		}
	}
	admin, err := client.Secret(ctx, ns, controlplane.AdminSecret)
	if err != nil {
		return err
	}
	if admin == nil && o.Output == "env" {
		return fmt.Errorf("there is no admin Secret %s/%s", ns, controlplane.AdminSecret)
	}
	endpoint, endpointLine := "", "unknown: use the s3 Service of NooBaa's namespace (a route, a load balancer or a port-forward)"
	if cp != nil {
		if info, ok := cp.Server(); ok {
			endpoint = info.Endpoint
			endpointLine = fmt.Sprintf("%s (nb serve, pid %d, since %s)", info.Endpoint, info.PID, info.Started.Local().Format("2006-01-02 15:04:05"))
		} else {
			endpointLine = "down: start it with \"nb serve\" (it listens on " + server.DefaultAddress + " unless --address says otherwise)"
		}
	}
	if o.Output == "env" {
		return o.printEnv(endpoint, admin)
	}
	w := o.IO.Out
	if cp != nil {
		fmt.Fprintf(w, "Local target:\t%s\n", cp.Dir)
	}
	fmt.Fprintf(w, "S3 endpoint:\t%s\n", endpointLine)
	if admin != nil && len(admin.Data[obv1.AccessKeyID]) > 0 {
		fmt.Fprintf(w, "Admin account:\t%s/%s (its keys: nb status -o env --show-secrets)\n", ns, controlplane.AdminSecret)
	} else {
		fmt.Fprintf(w, "Admin account:\tnone (no Secret %s/%s)\n", ns, controlplane.AdminSecret)
	}
	for _, k := range []*kinds.Kind{kinds.BackingStore, kinds.NamespaceStore, kinds.BucketClass, kinds.ObjectBucketClaim} {
		listNS := ns
		if k == kinds.ObjectBucketClaim {
			listNS = ""
		}
		items, err := client.List(ctx, k.GVR, listNS)
		if err != nil {
			return err
		}
		label := map[*kinds.Kind]string{kinds.BackingStore: "BackingStores", kinds.NamespaceStore: "NamespaceStores",
			kinds.BucketClass: "BucketClasses", kinds.ObjectBucketClaim: "ObjectBucketClaims"}[k]
		var free map[string]int64
		if cp != nil && k == kinds.BackingStore && len(items) > 0 {
			names := make([]string, 0, len(items))
			for i := range items {
				names = append(names, items[i].GetName())
			}
			if free, err = cp.StoresFree(ctx, ns, names); err != nil {
				fmt.Fprintf(o.IO.ErrOut, "warning: free space of the stores: %v\n", err)
			}
		}
		fmt.Fprintf(w, "%s:\t%s\n", label, summary(items, k == kinds.ObjectBucketClaim, free))
	}
	if cp != nil {
		all, err := cp.BucketStatuses(ctx)
		if err != nil {
			fmt.Fprintf(o.IO.ErrOut, "warning: buckets: %v\n", err)
			return nil
		}
		var objects, bytes, degraded, lost int64
		for _, st := range all {
			objects, bytes, degraded = objects+st.Objects, bytes+st.Bytes, degraded+st.Degraded
			if sc := st.Care.Scrub; sc != nil {
				lost += int64(sc.LostCount)
			}
		}
		line := fmt.Sprintf("%d, %d objects, %s; %d degraded", len(all), objects, manifest.FormatBytes(bytes), degraded)
		if lost > 0 {
			line += fmt.Sprintf(", %d unreadable at the last scrub (nb bucket list)", lost)
		}
		fmt.Fprintf(w, "Buckets:\t%s\n", line)
	}
	return nil
}

// summary is "2: a Ready/OPTIMAL, b Rejected/AUTH_FAILED".
func summary(items []unstructured.Unstructured, namespaced bool, free map[string]int64) string {
	if len(items) == 0 {
		return "none"
	}
	var parts []string
	for i := range items {
		name := items[i].GetName()
		if namespaced {
			name = items[i].GetNamespace() + "/" + name
		}
		phase, _, _ := unstructured.NestedString(items[i].Object, "status", "phase")
		if phase == "" {
			phase = "not yet reconciled"
		}
		if m := nbv1.Mode(&items[i]); m != "" {
			phase += "/" + m
		}
		if f, ok := free[items[i].GetName()]; ok && f >= 0 {
			phase += " (" + manifest.FormatBytes(f) + " free)"
		}
		parts = append(parts, name+" "+phase)
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d: %s", len(items), strings.Join(parts, ", "))
}

// printEnv prints export lines: the endpoint, and the admin's keys only
// with --show-secrets, so that a log never captures them by accident.
func (o *Options) printEnv(endpoint string, admin *corev1.Secret) error {
	if endpoint != "" {
		fmt.Fprintf(o.IO.Out, "export AWS_ENDPOINT_URL=%s\n", resource.ShellQuote(endpoint))
	} else {
		fmt.Fprintln(o.IO.ErrOut, "note: no S3 endpoint is known: on the local target start \"nb serve\"; on a cluster use NooBaa's s3 Service")
	}
	if admin == nil || len(admin.Data[obv1.AccessKeyID]) == 0 {
		return fmt.Errorf("the admin Secret %s has no %s", controlplane.AdminSecret, obv1.AccessKeyID)
	}
	if !o.ShowSecrets {
		fmt.Fprintf(o.IO.ErrOut, "note: %s and %s are left out; add --show-secrets to include them\n", obv1.AccessKeyID, obv1.SecretAccessKey)
		return nil
	}
	fmt.Fprintf(o.IO.Out, "export %s=%s\n", obv1.AccessKeyID, resource.ShellQuote(string(admin.Data[obv1.AccessKeyID])))
	fmt.Fprintf(o.IO.Out, "export %s=%s\n", obv1.SecretAccessKey, resource.ShellQuote(string(admin.Data[obv1.SecretAccessKey])))
	return nil
}
