package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
)

// DeleteOptions are the inputs of `nb NOUN delete NAME`.
type DeleteOptions struct {
	IO         *iostreams.IOStreams
	KubeClient func() (*kube.Client, error)
	Namespace  func() (string, error)
	Kind       *kinds.Kind
	Name       string
	Force      bool
	Wait       create.WaitFlags
}

// NewCmdDelete returns `nb NOUN delete NAME`.
func NewCmdDelete(f *cmdutil.Factory, k *kinds.Kind, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{IO: f.IOStreams, KubeClient: f.KubeClient, Namespace: f.Namespace, Kind: k}
	cmd := &cobra.Command{
		Use:               "delete NAME",
		Short:             fmt.Sprintf("Delete %s %s and wait until the operator has released it", article(k), k.Kind),
		Args:              cmdutil.ExactArgs("NAME"),
		ValidArgsFunction: CompleteNames(f, k),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	create.AddWaitFlags(cmd, &opts.Wait, "gone (its finalizers released)")
	if k != kinds.ObjectBucketClaim {
		cmd.Flags().BoolVar(&opts.Force, "force", false, "delete even if other objects still use it")
	}
	return cmd
}

// Run deletes the object.
func (o *DeleteOptions) Run(ctx context.Context) error {
	if o.Wait.Wait && o.Wait.Timeout <= 0 {
		return exitcode.Usagef("--timeout", "must be greater than zero, e.g. 5m")
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	obj, err := client.Get(ctx, o.Kind.GVR, o.Kind.Noun, ns, o.Name)
	if errors.Is(err, kube.ErrNotFound) && (o.Kind == kinds.BackingStore || o.Kind == kinds.NamespaceStore) {
		// No store, but perhaps the credential Secret a failed create of
		// it left behind: deleting the store's name removes that too.
		deleted, derr := client.DeleteOrphanSecrets(ctx, ns, o.Kind.Kind, o.Name)
		if derr != nil {
			return derr
		}
		if len(deleted) > 0 {
			for _, d := range deleted {
				fmt.Fprintf(o.IO.Out, "secret/%s deleted (made for %s %q, which does not exist)\n", d, o.Kind.Noun, o.Name)
			}
			return nil
		}
	}
	if err != nil {
		return err
	}
	users, err := o.users(ctx, client, obj)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		if !o.Force {
			return fmt.Errorf("%s %q is used by %s: delete or change those first, or pass --force", o.Kind.Noun, o.Name, strings.Join(users, ", "))
		}
		fmt.Fprintf(o.IO.ErrOut, "warning: deleting %s %q although %s still use it\n", o.Kind.Noun, o.Name, strings.Join(users, ", "))
	}
	if err := client.Delete(ctx, o.Kind.GVR, obj); err != nil {
		return err
	}
	label := kube.Kind(o.Kind.GVR, o.Name)
	if !o.Wait.Wait {
		fmt.Fprintf(o.IO.Out, "%s deleted\n", label)
		return nil
	}
	if len(obj.GetFinalizers()) > 0 || obj.GetDeletionTimestamp() != nil {
		fmt.Fprintf(o.IO.ErrOut, "waiting for %s to release %s...\n", strings.Join(obj.GetFinalizers(), ", "), label)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Wait.Timeout)
	defer cancel()
	warn := func(reason, msg string) { fmt.Fprintf(o.IO.ErrOut, "warning: %s: %s\n", reason, msg) }
	if err := client.WaitGone(ctx, o.Kind.GVR, o.Kind.Noun, obj, warn); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Out, "%s deleted\n", label)
	return nil
}

// users lists the objects that still reference obj: the bucket classes of
// a store, the claims of a bucket class.
func (o *DeleteOptions) users(ctx context.Context, client *kube.Client, obj *unstructured.Unstructured) ([]string, error) {
	var users []string
	switch o.Kind {
	case kinds.BackingStore, kinds.NamespaceStore:
		classes, err := client.List(ctx, kinds.BucketClass.GVR, obj.GetNamespace())
		if err != nil {
			return nil, err
		}
		for i := range classes {
			backing, namespace := nbv1.StoresUsedBy(&classes[i])
			used := backing
			if o.Kind == kinds.NamespaceStore {
				used = namespace
			}
			if slices.Contains(used, obj.GetName()) {
				users = append(users, fmt.Sprintf("bucketclass %q", classes[i].GetName()))
			}
		}
	case kinds.BucketClass:
		// Claims live in application namespaces; without the right to
		// list them all, check the class's own namespace.
		claims, err := client.List(ctx, kinds.ObjectBucketClaim.GVR, "")
		if err != nil {
			if claims, err = client.List(ctx, kinds.ObjectBucketClaim.GVR, obj.GetNamespace()); err != nil {
				return nil, err
			}
		}
		for _, c := range claims {
			if bc, _, _ := unstructured.NestedString(c.Object, "spec", "additionalConfig", obv1.ConfigBucketClass); bc == obj.GetName() {
				users = append(users, fmt.Sprintf("obc %s/%s", c.GetNamespace(), c.GetName()))
			}
		}
	}
	return users, nil
}
