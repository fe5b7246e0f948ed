// Package edit holds `nb edit KIND NAME`: kubectl edit for NooBaa's
// objects, on both targets.
package edit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/crdschema"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
)

// Options are the inputs of `nb edit`.
type Options struct {
	IO         *iostreams.IOStreams
	KubeClient func() (*kube.Client, error)
	Namespace  func() (string, error)
	Getenv     func(string) string
	Kind       *kinds.Kind
	Name       string
}

// NewCmdEdit returns `nb edit KIND NAME`.
func NewCmdEdit(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, KubeClient: f.KubeClient, Namespace: f.Namespace, Getenv: f.Getenv}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	cmd := &cobra.Command{
		Use:   "edit KIND NAME",
		Short: "Edit a BackingStore, NamespaceStore, BucketClass or ObjectBucketClaim in your editor",
		Long: heredoc.Doc(`
			Open the object as YAML in $KUBE_EDITOR, else $EDITOR, else vi, as kubectl edit does,
			and save it back when you close the editor. Nothing changes when you save it as it
			was, or empty it. An edit the object's CRD rejects opens again with the error on top;
			closing it unchanged then gives up (exit 1). KIND is backingstore, namespacestore,
			bucketclass or obc.`),
		Example: heredoc.Doc(`
			nb edit bucketclass mirror-class
			KUBE_EDITOR="code --wait" nb edit backingstore aws1`),
		Args: cmdutil.ExactArgs("KIND", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k := kindOf(args[0])
			if k == nil {
				return exitcode.Usagef("KIND", "%q is not a kind nb edits: use backingstore, namespacestore, bucketclass or obc", args[0])
			}
			opts.Kind, opts.Name = k, args[1]
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	return cmd
}

func kindOf(s string) *kinds.Kind {
	s = strings.ToLower(s)
	for _, k := range kinds.All() {
		if s == k.Noun || s == strings.ToLower(k.Kind) || s == k.GVR.Resource || s == strings.ToLower(k.Kind)+"s" {
			return k
		}
	}
	switch s {
	case "obcs", "objectbucketclaim", "objectbucketclaims":
		return kinds.ObjectBucketClaim
	case "bc", "bucketclasses":
		return kinds.BucketClass
	}
	return nil
}

const header = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file
# will be reopened with the relevant failures.
#
`

// Run edits until the object is saved, left as it was, or given up on.
func (o *Options) Run(ctx context.Context) error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	obj, err := client.Get(ctx, o.Kind.GVR, o.Kind.Noun, ns, o.Name)
	if err != nil {
		return err
	}
	obj.SetManagedFields(nil)
	original, err := yaml.Marshal(obj.Object)
	if err != nil {
		return err
	}
	schemas, err := crdschema.Load()
	if err != nil {
		return err
	}
	content, problem, previous := original, "", []byte(nil)
	for {
		text := header
		if problem != "" {
			for _, l := range strings.Split(problem, "\n") {
				text += "# " + l + "\n"
			}
			text += "#\n"
		}
		edited, err := o.runEditor(append([]byte(text), content...))
		if err != nil {
			return err
		}
		body := stripComments(edited)
		switch {
		case len(bytes.TrimSpace(body)) == 0:
			fmt.Fprintln(o.IO.ErrOut, "Edit cancelled, saved file was empty.")
			return nil
		case bytes.Equal(bytes.TrimSpace(body), bytes.TrimSpace(original)):
			fmt.Fprintln(o.IO.ErrOut, "Edit cancelled, no changes made.")
			return nil
		case previous != nil && bytes.Equal(body, previous):
			return fmt.Errorf("edit cancelled, no valid changes were saved: %s", firstLine(problem))
		}
		next, perr := parse(body, obj, schemas)
		if perr == nil {
			next.SetResourceVersion(obj.GetResourceVersion())
			_, err := client.Dynamic.Resource(o.Kind.GVR).Namespace(ns).Update(ctx, next, metav1.UpdateOptions{FieldManager: "nb"})
			if apierrors.IsConflict(err) {
				return fmt.Errorf("%s %q changed while you edited it: run nb edit again to edit the current version", o.Kind.Noun, o.Name)
			}
			if err == nil {
				fmt.Fprintf(o.IO.Out, "%s edited\n", kube.Kind(o.Kind.GVR, o.Name))
				return nil
			}
			perr = client.Translate(err, kube.Action{Verb: "update", Resource: o.Kind.GVR.GroupResource(), Name: o.Name, Namespace: ns})
		}
		problem, previous, content = "error: "+perr.Error(), body, body
	}
}

// parse reads the edited object and checks it: same kind and name, and
// what its CRD says.
func parse(body []byte, orig *unstructured.Unstructured, schemas *crdschema.Schemas) (*unstructured.Unstructured, error) {
	var m map[string]any
	if err := yaml.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("not valid YAML: %v", err)
	}
	next := &unstructured.Unstructured{Object: m}
	switch {
	case next.GetAPIVersion() != orig.GetAPIVersion() || next.GetKind() != orig.GetKind():
		return nil, errors.New("apiVersion and kind cannot change")
	case next.GetName() != orig.GetName() || next.GetNamespace() != orig.GetNamespace():
		return nil, errors.New("metadata.name and metadata.namespace cannot change")
	}
	if errs := schemas.Validate(next.Object); len(errs) > 0 {
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return next, nil
}

// runEditor writes content to a private temporary file, opens the editor
// on it and returns what was saved; the file is always removed.
func (o *Options) runEditor(content []byte) ([]byte, error) {
	f, err := os.CreateTemp("", "nb-edit-"+o.Kind.Noun+"-"+o.Name+"-*.yaml")
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	path := f.Name()
	defer os.Remove(path)
	if _, err := f.Write(content); err != nil {
		f.Close()
		return nil, fmt.Errorf("edit: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	editor := o.Getenv("KUBE_EDITOR")
	if editor == "" {
		editor = o.Getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	// As kubectl: the editor is a command line, run by the shell.
	cmd := exec.Command("sh", "-c", editor+` "$1"`, "nb-edit", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.IO.In, o.IO.Out, o.IO.ErrOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("the editor (%s) failed: %v: set KUBE_EDITOR or EDITOR to one that works", editor, err)
	}
	return os.ReadFile(path)
}

func stripComments(b []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
