package apply

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/kube"
)

// DeleteOptions are the inputs of `nb delete -f`.
type DeleteOptions struct {
	*Options
	IgnoreNotFound bool
	Wait           create.WaitFlags
}

// NewCmdDelete returns `nb delete -f`.
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	base := newOptions(f)
	opts := &DeleteOptions{Options: base}
	cmd := &cobra.Command{
		Use:   "delete -f FILE|DIR|-",
		Short: "Delete the objects of manifests, as kubectl delete -f does",
		Long: heredoc.Doc(`
			Delete the objects that manifests name (the files nb apply takes), claims first, then
			bucket classes, stores, ConfigMaps and Secrets, and wait until each is gone (its
			finalizers released: a store a class still uses stays until the class is gone).
			Deleting a claim deletes its bucket and all its data.`),
		Example: heredoc.Doc(`
			nb delete -f walkthrough.yaml
			nb delete -R -f manifests/ --ignore-not-found`),
		Args: cmdutil.ExactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Files) == 0 {
				return exitcode.Usagef("--filename", "name what to delete: -f FILE, -f DIR or -f - for stdin")
			}
			if opts.Wait.Wait && opts.Wait.Timeout <= 0 {
				return exitcode.Usagef("--timeout", "must be greater than zero, e.g. 5m")
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "a manifest file, a folder of them, or - for stdin (repeatable)")
	cmd.Flags().BoolVarP(&opts.Recursive, "recursive", "R", false, "with -f DIR, also the manifests in its subfolders")
	cmd.Flags().BoolVar(&opts.IgnoreNotFound, "ignore-not-found", false, "an object that does not exist is not an error")
	create.AddWaitFlags(cmd, &opts.Wait, "gone (its finalizers released)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

// Run deletes in reverse apply order.
func (o *DeleteOptions) Run(ctx context.Context) error {
	docs, err := o.read()
	if err != nil {
		return err
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	for i := range docs {
		if err := checkKind(&docs[i], ns); err != nil {
			return err
		}
	}
	sort.SliceStable(docs, func(i, j int) bool { return order(docs[i]) > order(docs[j]) })
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	var missing []string
	for _, d := range docs {
		label := kube.Kind(d.gvr, d.obj.GetName())
		cur, err := client.Dynamic.Resource(d.gvr).Namespace(d.obj.GetNamespace()).Get(ctx, d.obj.GetName(), metav1.GetOptions{})
		if err != nil {
			terr := client.Translate(err, kube.Action{Verb: "get", Resource: d.gvr.GroupResource(), Name: d.obj.GetName(), Namespace: d.obj.GetNamespace()})
			if errors.Is(terr, kube.ErrNotFound) || isNotFound(err) {
				if !o.IgnoreNotFound {
					missing = append(missing, label)
				}
				continue
			}
			return terr
		}
		if err := client.Delete(ctx, d.gvr, cur); err != nil {
			return err
		}
		if o.Wait.Wait {
			wctx, cancel := context.WithTimeout(ctx, o.Wait.Timeout)
			warn := func(reason, msg string) { fmt.Fprintf(o.IO.ErrOut, "warning: %s: %s\n", reason, msg) }
			err := client.WaitGone(wctx, d.gvr, nounOf(d), cur, warn)
			cancel()
			if err != nil {
				return err
			}
		}
		fmt.Fprintf(o.IO.Out, "%s deleted\n", label)
	}
	if len(missing) > 0 {
		return fmt.Errorf("not found: %v (pass --ignore-not-found when that is expected)", missing)
	}
	return nil
}

func nounOf(d doc) string {
	if d.kind != nil {
		return d.kind.Noun
	}
	return d.obj.GetKind()
}
