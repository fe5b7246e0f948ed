// Package store holds the commands BackingStores and NamespaceStores share:
// `nb backingstore|namespacestore create TYPE NAME`, one subcommand per type.
package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmd/create"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/credentials"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kinds"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
)

// CreateOptions are the inputs of a store create.
type CreateOptions struct {
	IO         *iostreams.IOStreams
	Getenv     func(string) string
	ReadFile   func(string) ([]byte, error)
	Namespace  func() (string, error)
	KubeClient func() (*kube.Client, error)

	Input manifest.Store
	// CredentialFlags holds the credential flags the user set.
	CredentialFlags    map[string]string
	CredentialsFile    string
	PrivateKeyJSONFile string

	Create *create.Flags

	// Objects are built by Run; a test's runF may inspect them.
	Objects *manifest.StoreObjects
}

// NewCmdCreate returns `create` with one subcommand per type of kind.
// runF, when not nil, replaces Run (tests capture the parsed options).
func NewCmdCreate(f *cmdutil.Factory, kind manifest.StoreKind, runF func(*CreateOptions) error) *cobra.Command {
	noun := strings.ToLower(kind.String())
	cmd := &cobra.Command{
		Use:         "create TYPE NAME",
		Short:       fmt.Sprintf("Create a %s and its credentials Secret", kind),
		Annotations: map[string]string{"subject": noun + " type"},
	}
	cmdutil.SubcommandRequired(cmd)
	for _, t := range manifest.TypesFor(kind) {
		cmd.AddCommand(newCmdCreateType(f, kind, t, runF))
	}
	return cmd
}

func newCmdCreateType(f *cmdutil.Factory, kind manifest.StoreKind, t manifest.StoreType, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{
		IO: f.IOStreams, Getenv: f.Getenv, ReadFile: f.ReadFile, Namespace: f.Namespace, KubeClient: f.KubeClient,
		Input:  manifest.Store{Kind: kind, Type: t.Name},
		Create: create.NewFlags(),
	}
	noun := strings.ToLower(kind.String())
	cmd := &cobra.Command{
		Use:     t.Name + " NAME",
		Short:   fmt.Sprintf("Create a %s on %s", kind, t.Short),
		Example: example(noun, t),
		Args:    cmdutil.ExactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input.Name = args[0]
			opts.CredentialFlags = map[string]string{}
			for _, cf := range t.Credentials {
				if fl := cmd.Flags().Lookup(cf.Flag); fl != nil && fl.Changed {
					opts.CredentialFlags[cf.Flag] = fl.Value.String()
				}
			}
			if err := opts.Complete(); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return opts.Run(cmd.Context())
		},
	}
	in := &opts.Input
	fl := cmd.Flags()
	switch t.Name {
	case "azure-blob", "azure-sts-blob":
		fl.StringVar(&in.TargetBlobContainer, "target-blob-container", "", "the Azure blob container to use")
	case "pv-pool", "nsfs":
	default:
		fl.StringVar(&in.TargetBucket, "target-bucket", "", "the bucket to use")
	}
	switch t.Name {
	case "aws-s3", "aws-sts-s3":
		fl.StringVar(&in.Region, "region", "", "the AWS region of the bucket, e.g. us-east-1")
	case "s3-compatible", "ibm-cos":
		fl.StringVar(&in.Endpoint, "endpoint", "", "the S3 endpoint URL, e.g. https://s3.example.com:9000")
		def := "v4 for backing stores, unset for namespace stores"
		if t.Name == "ibm-cos" {
			def = "v2"
		}
		fl.StringVar(&in.SignatureVersion, "signature-version", "", "the S3 signature version, v4 or v2 (default "+def+")")
	}
	if t.Name == "aws-sts-s3" {
		fl.StringVar(&in.AWSSTSRoleARN, "aws-sts-arn", "", "the ARN of the IAM role NooBaa assumes")
	}
	for _, cf := range t.Credentials {
		help := fmt.Sprintf("%s (or set %s, or use --credentials-file; prompted for on a terminal)", strings.ToLower(cf.Label), strings.Join(cf.Env, " or "))
		fl.String(cf.Flag, "", help)
	}
	if len(t.Credentials) > 0 {
		fl.StringVar(&opts.CredentialsFile, "credentials-file", "", "read credentials from a file of KEY=VALUE lines or an AWS shared credentials file")
	}
	if len(t.Credentials) > 0 || strings.HasPrefix(t.Name, "google-cloud-storage") {
		fl.StringVar(&in.SecretName, "secret-name", "", "use this existing Secret (in the same namespace) instead of creating one")
	}
	switch t.Name {
	case "google-cloud-storage":
		fl.StringVar(&opts.PrivateKeyJSONFile, "private-key-json-file", "", "the service-account key file (default $GOOGLE_APPLICATION_CREDENTIALS)")
	case "google-cloud-storage-sts":
		fl.StringVar(&in.ServiceAccountEmail, "service-account-email", "", "the service account to impersonate")
		fl.StringVar(&in.ProjectNumber, "project-number", "", "the numeric Google Cloud project number")
		fl.StringVar(&in.PoolID, "pool-id", "", "the workload identity pool ID")
		fl.StringVar(&in.ProviderID, "provider-id", "", "the workload identity provider ID")
	case "pv-pool":
		fl.IntVar(&in.NumVolumes, "num-volumes", 0, fmt.Sprintf("number of volumes (%d-%d)", manifest.MinPVPoolVolumes, manifest.MaxPVPoolVolumes))
		fl.IntVar(&in.PVSizeGB, "pv-size-gb", 0, fmt.Sprintf("size of each volume in GiB (%d-%d)", manifest.MinPVSizeGB, manifest.MaxPVSizeGB))
		fl.StringVar(&in.StorageClass, "storage-class", "", "the StorageClass of the volumes (default: the cluster's default)")
		fl.StringVar(&in.RequestCPU, "request-cpu", "", "CPU request of each agent pod, e.g. 500m")
		fl.StringVar(&in.RequestMemory, "request-memory", "", "memory request of each agent pod, e.g. 1Gi")
		fl.StringVar(&in.LimitCPU, "limit-cpu", "", "CPU limit of each agent pod")
		fl.StringVar(&in.LimitMemory, "limit-memory", "", "memory limit of each agent pod")
	case "nsfs":
		fl.StringVar(&in.PVCName, "pvc-name", "", "the PVC that holds the file system")
		fl.StringVar(&in.SubPath, "sub-path", "", "a folder inside the PVC to serve (default: its root)")
		fl.StringVar(&in.FSBackend, "fs-backend", "", "the file system: CEPH_FS, GPFS or NFSv4")
	}
	if kind == manifest.Namespace {
		fl.StringVar(&in.AccessMode, "access-mode", "read-write", "read-write or read-only")
		if t.Name == "s3-compatible" {
			fl.BoolVar(&in.Archive, "archive", false, "mark the store as an IBM Deep Archive target")
		}
	}
	opts.Create.AddFlags(cmd, "Ready")
	return cmd
}

func example(noun string, t manifest.StoreType) string {
	switch t.Name {
	case "aws-s3":
		return heredoc.Docf(`
			# keys from the environment, nothing secret on the command line
			AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... nb %[1]s create aws-s3 aws1 --target-bucket my-bucket --region us-east-1
			# print the manifests for a GitOps repository
			nb %[1]s create aws-s3 aws1 --target-bucket my-bucket --credentials-file ~/.aws/credentials --dry-run=client -o yaml --show-secrets`, noun)
	case "s3-compatible":
		return heredoc.Docf(`
			nb %s create s3-compatible minio1 --endpoint https://minio.example.com:9000 --target-bucket b1 --credentials-file creds.env`, noun)
	case "pv-pool":
		return heredoc.Docf(`
			nb %s create pv-pool pv1 --num-volumes 2 --pv-size-gb 32 --storage-class standard`, noun)
	}
	return ""
}

// Run resolves credentials and prints or creates the objects (RunE has
// completed and validated the options first, also when a test gives its
// own runF).
func (o *CreateOptions) Run(ctx context.Context) error {
	if err := o.resolveCredentials(ctx); err != nil {
		return err
	}
	objs, err := o.Input.Build()
	if err != nil {
		return err
	}
	o.Objects = objs
	pair := create.Objects{Secret: objs.Secret, Object: objs.Store()}
	if o.Create.DryRun == create.DryRunClient {
		return o.Create.PrintClientDryRun(o.IO, pair.List())
	}
	if o.Input.SecretName != "" {
		client, err := o.KubeClient()
		if err != nil {
			return err
		}
		if err := client.CheckSecretKeys(ctx, o.Input.Namespace, o.Input.SecretName, manifest.MandatorySecretKeys(o.Input.StoreType())); err != nil {
			return err
		}
	}
	_, err = o.Create.OnCluster(ctx, o.IO, o.KubeClient, pair, kindOf(o.Input.Kind))
	return err
}

func kindOf(k manifest.StoreKind) *kinds.Kind {
	if k == manifest.Namespace {
		return kinds.NamespaceStore
	}
	return kinds.BackingStore
}

// Complete fills in what the flags leave implicit.
func (o *CreateOptions) Complete() error {
	ns, err := o.Namespace()
	if err != nil {
		return err
	}
	o.Input.Namespace = ns
	return nil
}

// Validate checks every input but the credentials' values.
func (o *CreateOptions) Validate() error {
	if err := o.Create.Validate(); err != nil {
		return err
	}
	if o.Input.SecretName != "" && (len(o.CredentialFlags) > 0 || o.CredentialsFile != "" || o.PrivateKeyJSONFile != "") {
		return exitcode.Usagef("--secret-name", "an existing Secret is used: leave out the credential flags and --credentials-file")
	}
	return o.Input.Validate()
}

func (o *CreateOptions) resolveCredentials(ctx context.Context) error {
	in := &o.Input
	switch {
	case in.SecretName != "":
		return nil
	case in.Type == "google-cloud-storage":
		path := o.PrivateKeyJSONFile
		flag := "--private-key-json-file"
		if path == "" {
			path = o.Getenv("GOOGLE_APPLICATION_CREDENTIALS")
			flag = "GOOGLE_APPLICATION_CREDENTIALS"
		}
		if path == "" {
			return exitcode.Usagef("--private-key-json-file", "a service-account key file is required: pass --private-key-json-file, set GOOGLE_APPLICATION_CREDENTIALS, or reuse a Secret with --secret-name")
		}
		raw, err := cmdutil.ReadFlagFile(o.ReadFile, flag, path)
		if err != nil {
			return err
		}
		doc, err := manifest.GoogleServiceAccountKey(flag, raw)
		if err != nil {
			return err
		}
		in.SecretData = map[string]string{manifest.KeyGoogleServiceAccount: doc}
		return nil
	case !in.NeedsCredentials():
		return nil
	}
	data, err := credentials.Resolve(ctx, in.StoreType().Credentials, credentials.Source{
		Flags: o.CredentialFlags, File: o.CredentialsFile,
		Getenv: o.Getenv, ReadFile: o.ReadFile, Prompt: o.IO.Prompt,
	})
	if err != nil {
		return err
	}
	in.SecretData = data
	return nil
}
