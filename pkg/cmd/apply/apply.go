// Package apply holds `nb apply -f`: Secrets, ConfigMaps and NooBaa's
// objects from YAML or JSON manifests (the guides' own files, a GitOps
// repository), created or updated with kubectl apply's semantics.
package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/crdschema"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/printer"
)

// Options are the inputs of `nb apply`.
type Options struct {
	IO         *iostreams.IOStreams
	KubeClient func() (*kube.Client, error)
	Namespace  func() (string, error)
	ReadFile   func(string) ([]byte, error)

	Files          []string
	Recursive      bool
	ForceConflicts bool
	Create         *create.Flags
}

// NewCmdApply returns `nb apply`.
func NewCmdApply(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := newOptions(f)
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create or update objects from YAML or JSON manifests, as kubectl apply does",
		Long: heredoc.Doc(`
			Create or update Secrets, ConfigMaps, BackingStores, NamespaceStores, BucketClasses and
			ObjectBucketClaims from manifests: files, folders (-R for their subfolders) or stdin,
			with any number of documents each, in any order (nb applies Secrets and ConfigMaps
			first, then stores, classes and claims).

			Every document is checked before anything is written: a document nb does not apply,
			or one that its CRD rejects, is named by file, index and field, exit 2, and nothing
			is written. On a cluster each object is a server-side apply with field manager nb;
			on the local target the same outcome, and all of them in one transaction.

			Then nb waits, as the create commands do, until each store and class is Ready and
			each claim Bound (exit 3 if one is rejected, 4 on --timeout); --wait=false does not.`),
		Example: heredoc.Doc(`
			# the federation guide's manifests, and a Secret made as the guide makes it
			kubectl create secret generic aws-s3-creds --from-literal=AWS_ACCESS_KEY_ID=... \
			  --from-literal=AWS_SECRET_ACCESS_KEY=... --dry-run=client -o yaml | nb apply -f -
			nb apply -f backingstores.yaml -f bucketclass.yaml -f obc.yaml
			# a GitOps folder, checked against the API server without writing
			nb apply -R -f manifests/ --dry-run=server`),
		Args: cmdutil.ExactArgs(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Files) == 0 {
				return exitcode.Usagef("--filename", "name what to apply: -f FILE, -f DIR or -f - for stdin")
			}
			if err := opts.Create.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVarP(&opts.Files, "filename", "f", nil, "a manifest file, a folder of them, or - for stdin (repeatable)")
	cmd.Flags().BoolVarP(&opts.Recursive, "recursive", "R", false, "with -f DIR, also the manifests in its subfolders")
	cmd.Flags().BoolVar(&opts.ForceConflicts, "force-conflicts", false, "take over fields another field manager owns (cluster)")
	opts.Create.AddFlags(cmd, "Ready (claims: Bound)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	return cmd
}

func newOptions(f *cmdutil.Factory) *Options {
	o := &Options{IO: f.IOStreams, KubeClient: f.KubeClient, Namespace: f.Namespace, ReadFile: f.ReadFile, Create: create.NewFlags()}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

// doc is one document of the input, and where it came from.
type doc struct {
	source string // file name, or "stdin"
	index  int    // 1-based, within its source
	obj    *unstructured.Unstructured
	gvr    schema.GroupVersionResource
	kind   *kinds.Kind // nil for Secrets and ConfigMaps
}

func (d doc) where() string {
	name := d.obj.GetName()
	if name == "" {
		name = "(no name)"
	}
	return fmt.Sprintf("%s: document %d (%s %s)", d.source, d.index, d.obj.GetKind(), name)
}

// applied are the kinds nb applies, in the order it applies them.
var applied = []struct {
	apiVersion, kind string
	gvr              schema.GroupVersionResource
	k                *kinds.Kind
}{
	{"v1", "Secret", schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, nil},
	{"v1", "ConfigMap", schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, nil},
	{"noobaa.io/v1alpha1", "BackingStore", kinds.BackingStore.GVR, kinds.BackingStore},
	{"noobaa.io/v1alpha1", "NamespaceStore", kinds.NamespaceStore.GVR, kinds.NamespaceStore},
	{"noobaa.io/v1alpha1", "BucketClass", kinds.BucketClass.GVR, kinds.BucketClass},
	{"objectbucket.io/v1alpha1", "ObjectBucketClaim", kinds.ObjectBucketClaim.GVR, kinds.ObjectBucketClaim},
}

func order(d doc) int {
	for i, a := range applied {
		if a.gvr == d.gvr {
			return i
		}
	}
	return len(applied)
}

// Run reads, checks, applies and waits.
func (o *Options) Run(ctx context.Context) error {
	docs, err := o.read()
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return exitcode.Usagef("--filename", "no objects in %s", strings.Join(o.Files, ", "))
	}
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	schemas, err := crdschema.Load()
	if err != nil {
		return err
	}
	seen := map[string]string{}
	for i := range docs {
		if err := check(&docs[i], ns, schemas); err != nil {
			return err
		}
		id := docs[i].gvr.String() + "/" + docs[i].obj.GetNamespace() + "/" + docs[i].obj.GetName()
		if first, dup := seen[id]; dup {
			return exitcode.Usagef("--filename", "%s: the same object as %s: give each object once", docs[i].where(), first)
		}
		seen[id] = docs[i].where()
	}
	sort.SliceStable(docs, func(i, j int) bool { return order(docs[i]) < order(docs[j]) })

	if o.Create.DryRun == create.DryRunClient {
		objs := make([]runtime.Object, len(docs))
		for i, d := range docs {
			objs[i] = d.obj
		}
		return o.Create.PrintClientDryRun(o.IO, objs)
	}
	client, err := o.KubeClient()
	if err != nil {
		return err
	}
	items := make([]kube.ApplyItem, len(docs))
	for i, d := range docs {
		items[i] = kube.ApplyItem{GVR: d.gvr, Object: d.obj}
	}
	server := o.Create.DryRun == create.DryRunServer
	res, err := client.Apply(ctx, items, kube.ApplyOptions{DryRun: server, Force: o.ForceConflicts})
	if err != nil {
		return err
	}
	structured := printer.IsStructured(o.Create.PrintFlags)
	if !structured {
		for i, r := range res {
			line := kube.Kind(docs[i].gvr, r.Object.GetName()) + " " + r.Op
			if server {
				line += " (server dry run)"
			}
			fmt.Fprintln(o.IO.Out, line)
		}
	}
	if server || !o.Create.Wait.Wait {
		if structured {
			return o.print(res)
		}
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.Create.Wait.Timeout)
	defer cancel()
	for i, r := range res {
		k := docs[i].kind
		if k == nil {
			continue
		}
		final, err := create.WaitFor(waitCtx, o.IO, client, k, r.Object.GetNamespace(), r.Object.GetName())
		if err != nil {
			return err
		}
		res[i].Object = final
	}
	if structured {
		return o.print(res)
	}
	return nil
}

func (o *Options) print(res []kube.ApplyResult) error {
	objs := make([]*unstructured.Unstructured, len(res))
	for i, r := range res {
		objs[i] = r.Object
	}
	masked := false
	if !o.Create.ShowSecrets {
		objs, masked = printer.MaskSecrets(objs)
	}
	flags := *o.Create.PrintFlags
	if err := flags.Complete("%s"); err != nil {
		return err
	}
	if err := printer.Print(o.IO.Out, &flags, objs); err != nil {
		return err
	}
	if masked {
		fmt.Fprintln(o.IO.ErrOut, "note: Secret values are masked; add --show-secrets to print them")
	}
	return nil
}

// read loads every document of every -f.
func (o *Options) read() ([]doc, error) {
	var out []doc
	for _, f := range o.Files {
		if f == "-" {
			raw, err := io.ReadAll(io.LimitReader(o.IO.In, 64<<20))
			if err != nil {
				return nil, exitcode.Usagef("--filename", "reading stdin: %v", err)
			}
			docs, err := decode("stdin", raw)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
			continue
		}
		info, err := os.Stat(f)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, exitcode.Usagef("--filename", "cannot read %s: %v", f, err)
		}
		files := []string{f}
		if info.IsDir() {
			if files, err = manifestsIn(f, o.Recursive); err != nil {
				return nil, err
			}
		}
		for _, p := range files {
			raw, err := cmdutil.ReadFlagFile(o.ReadFile, "--filename", p)
			if err != nil {
				return nil, err
			}
			docs, err := decode(p, raw)
			if err != nil {
				return nil, err
			}
			out = append(out, docs...)
		}
	}
	return out, nil
}

// manifestsIn lists the .yaml, .yml and .json files of dir, sorted.
func manifestsIn(dir string, recursive bool) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, exitcode.Usagef("--filename", "reading %s: %v", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// decode splits raw into documents (YAML separated by ---, or JSON), a
// List's items counted as documents of their own.
func decode(source string, raw []byte) ([]doc, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []doc
	for index := 1; ; index++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, exitcode.Usagef("--filename", "%s: document %d is not valid YAML or JSON: %v", source, index, err)
		}
		if len(m) == 0 {
			index--
			continue
		}
		obj := &unstructured.Unstructured{Object: m}
		if obj.IsList() {
			list, err := obj.ToList()
			if err != nil {
				return nil, exitcode.Usagef("--filename", "%s: document %d: %v", source, index, err)
			}
			for i := range list.Items {
				out = append(out, doc{source: fmt.Sprintf("%s (item %d)", source, i+1), index: index, obj: &list.Items[i]})
			}
			continue
		}
		out = append(out, doc{source: source, index: index, obj: obj})
	}
}

// check makes sure d is an object nb applies, valid as the API server
// would find it, with its namespace set.
func check(d *doc, ns string, schemas *crdschema.Schemas) error {
	if err := checkKind(d, ns); err != nil {
		return err
	}
	return checkContent(d, schemas)
}

// checkKind makes sure d is of a kind nb applies, named, with its
// namespace set (what delete needs).
func checkKind(d *doc, ns string) error {
	av, kind := d.obj.GetAPIVersion(), d.obj.GetKind()
	found := false
	for _, a := range applied {
		if a.apiVersion == av && a.kind == kind {
			d.gvr, d.kind, found = a.gvr, a.k, true
		}
	}
	if !found {
		if kind == "" || av == "" {
			return exitcode.Usagef("--filename", "%s: apiVersion and kind are required", d.where())
		}
		var names []string
		for _, a := range applied {
			names = append(names, a.apiVersion+" "+a.kind)
		}
		return exitcode.Usagef("--filename", "%s: %s %s is not something nb applies: use kubectl for it; nb applies %s", d.where(), av, kind, strings.Join(names, ", "))
	}
	name := d.obj.GetName()
	if name == "" {
		return exitcode.Usagef("--filename", "%s: metadata.name is required", d.where())
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return exitcode.Usagef("--filename", "%s: metadata.name: %s", d.where(), errs[0])
	}
	if d.obj.GetNamespace() == "" {
		d.obj.SetNamespace(ns)
	} else if errs := validation.IsDNS1123Label(d.obj.GetNamespace()); len(errs) > 0 {
		return exitcode.Usagef("--filename", "%s: metadata.namespace: %s", d.where(), errs[0])
	}
	return nil
}

// checkContent validates d as its CRD (or core type) does.
func checkContent(d *doc, schemas *crdschema.Schemas) error {
	switch d.obj.GetKind() {
	case "Secret":
		var s corev1.Secret
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.obj.Object, &s); err != nil {
			return exitcode.Usagef("--filename", "%s: not a valid Secret (data values are base64, stringData values strings): %s", d.where(), secretSafe(err))
		}
	case "ConfigMap":
		var c corev1.ConfigMap
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.obj.Object, &c); err != nil {
			return exitcode.Usagef("--filename", "%s: not a valid ConfigMap: %v", d.where(), err)
		}
	default:
		if errs := schemas.Validate(d.obj.Object); len(errs) > 0 {
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			return exitcode.Usagef("--filename", "%s: %s", d.where(), strings.Join(msgs, "; "))
		}
	}
	return nil
}

// secretSafe describes a Secret conversion error without quoting the
// document (a value may be a credential).
func secretSafe(err error) string {
	if msg := err.Error(); strings.Contains(msg, "illegal base64") {
		return "a data value is not base64: put plain values under stringData"
	}
	return "its fields do not have a Secret's types"
}
