package create

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/nbctl/nb/pkg/apis/status"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
	"github.com/nbctl/nb/pkg/printer"
)

// WaitFlags are --wait and --timeout.
type WaitFlags struct {
	Wait    bool
	Timeout time.Duration
}

// AddWaitFlags registers --wait and --timeout.
func AddWaitFlags(cmd *cobra.Command, w *WaitFlags, what string) {
	w.Wait, w.Timeout = true, 5*time.Minute
	cmd.Flags().BoolVar(&w.Wait, "wait", true, "wait until the object is "+what+" (exit 3 if rejected, 4 on timeout)")
	cmd.Flags().DurationVar(&w.Timeout, "timeout", 5*time.Minute, "how long --wait waits")
}

// Objects are what one create makes: an optional credentials Secret,
// created first, and the object itself.
type Objects struct {
	Secret *corev1.Secret
	Object runtime.Object
}

// List is the objects in creation order (what a client dry run prints).
func (o Objects) List() []runtime.Object {
	if o.Secret == nil {
		return []runtime.Object{o.Object}
	}
	return []runtime.Object{o.Secret, o.Object}
}

// OnCluster creates objs (the Secret, then the object) on the selected
// target, then waits for the object unless told not to, printing
// kubectl-style lines on stdout and progress on stderr.
func (c *Flags) OnCluster(ctx context.Context, io *iostreams.IOStreams, newClient func() (*kube.Client, error), objs Objects, k *kinds.Kind) (*unstructured.Unstructured, error) {
	if c.Wait.Timeout <= 0 && c.Wait.Wait {
		return nil, exitcode.Usagef("--timeout", "must be greater than zero, e.g. 5m")
	}
	client, err := newClient()
	if err != nil {
		return nil, err
	}
	obj, err := manifest.ToUnstructured(objs.Object)
	if err != nil {
		return nil, err
	}
	req := kube.CreateRequest{Object: obj, GVR: k.GVR, Noun: k.Noun, ServerDryRun: c.DryRun == DryRunServer}
	if objs.Secret != nil {
		if req.Secret, err = manifest.ToUnstructured(objs.Secret); err != nil {
			return nil, err
		}
	}
	ns := req.Object.GetNamespace()
	// On the local target the embedded control plane is the system: there
	// is no NooBaa CR to own the object.
	if k.OwnedBySystem && client.Controller == nil {
		sys, err := client.System(ctx, ns)
		if err != nil {
			return nil, err
		}
		if sys == nil {
			fmt.Fprintln(io.ErrOut, "warning: "+kube.NoSystemWarning(ns))
		} else {
			kube.SetControllerOwner(req.Object, sys)
		}
	}
	res, err := client.Create(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(io.ErrOut, "warning: "+w)
	}
	created := []*unstructured.Unstructured{}
	if res.Secret != nil {
		created = append(created, res.Secret)
	}
	created = append(created, res.Object)
	if c.DryRun == DryRunServer {
		return res.Object, c.print(io, created, "%s (server dry run)")
	}
	structured := printer.IsStructured(c.PrintFlags)
	if !structured {
		if err := c.print(io, created, "%s"); err != nil {
			return nil, err
		}
	}
	if !c.Wait.Wait {
		if structured {
			return res.Object, c.print(io, created, "%s")
		}
		return res.Object, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.Wait.Timeout)
	defer cancel()
	final, err := WaitFor(ctx, io, client, k, ns, req.Object.GetName())
	if err != nil {
		return nil, err
	}
	if structured {
		created[len(created)-1] = final
		return final, c.print(io, created, "%s")
	}
	return final, nil
}

// WaitFor waits until the object meets its kind's condition (Ready,
// Bound), with progress and its Warning events on stderr, and says so
// there; ctx bounds the wait (a TimeoutError, exit 4; a RejectedError,
// exit 3, when the object is rejected).
func WaitFor(ctx context.Context, io *iostreams.IOStreams, client *kube.Client, k *kinds.Kind, ns, name string) (*unstructured.Unstructured, error) {
	label := kube.Kind(k.GVR, name)
	prog := startProgress(io, label)
	warned := map[string]bool{}
	final, err := client.Wait(ctx, kube.WaitRequest{
		GVR: k.GVR, Kind: k.Kind, Noun: k.Noun, Namespace: ns, Name: name, Condition: k.Condition,
		OnProgress: func(p status.Progress) { prog.Update(p.String()) },
		OnWarning: func(reason, msg string) {
			line := fmt.Sprintf("warning: %s event %s: %s", k.Noun, reason, msg)
			if !warned[line] {
				warned[line] = true
				prog.Println(line)
			}
		},
	})
	prog.Stop()
	if err != nil {
		return nil, err
	}
	_, p := k.Condition(final)
	fmt.Fprintf(io.ErrOut, "%s is %s\n", label, p.String())
	return final, nil
}

func (c *Flags) print(io *iostreams.IOStreams, objs []*unstructured.Unstructured, op string) error {
	masked := false
	if !c.ShowSecrets {
		objs, masked = printer.MaskSecrets(objs)
	}
	flags := *c.PrintFlags
	if err := flags.Complete(op); err != nil {
		return err
	}
	if err := printer.Print(io.Out, &flags, objs); err != nil {
		return err
	}
	if masked && printer.IsStructured(&flags) {
		fmt.Fprintln(io.ErrOut, "note: Secret values are masked; add --show-secrets to print them")
	}
	return nil
}
