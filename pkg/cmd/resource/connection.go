package resource

import (
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/iostreams"
	"github.com/nbctl/nb/pkg/kube"
)

// connection is what an application needs to reach a claimed bucket: the
// ConfigMap and Secret the provisioner creates, named after the claim.
type connection struct {
	claim     *unstructured.Unstructured
	configMap *corev1.ConfigMap
	secret    *corev1.Secret
	noter     EndpointNoter
}

func claimConnection(ctx context.Context, client *kube.Client, claim *unstructured.Unstructured) (*connection, error) {
	cm, err := client.ConfigMap(ctx, claim.GetNamespace(), claim.GetName())
	if err != nil {
		return nil, err
	}
	s, err := client.Secret(ctx, claim.GetNamespace(), claim.GetName())
	if err != nil {
		return nil, err
	}
	noter, _ := client.Controller.(EndpointNoter)
	return &connection{claim: claim, configMap: cm, secret: s, noter: noter}, nil
}

func (c *connection) configMapData() map[string]string {
	if c.configMap == nil {
		return nil
	}
	return c.configMap.Data
}

func (c *connection) secretData() map[string][]byte {
	if c.secret == nil {
		return nil
	}
	return c.secret.Data
}

// printEnv prints `export KEY='value'` lines; the keys only with
// showSecrets, so that a log never captures them by accident.
func (c *connection) printEnv(io *iostreams.IOStreams, showSecrets bool) error {
	if c.configMap == nil {
		phase, _, _ := unstructured.NestedString(c.claim.Object, "status", "phase")
		return &exitcode.RejectedError{Err: fmt.Errorf("obc %q has no connection details yet (phase %q): wait until it is Bound", c.claim.GetName(), phase)}
	}
	vals := map[string]string{}
	for k, v := range c.configMap.Data {
		vals[k] = v
	}
	if host := vals[obv1.BucketHost]; host != "" {
		vals["AWS_ENDPOINT_URL"] = obv1.EndpointURL(host, vals[obv1.BucketPort])
		if c.noter != nil {
			if u := c.noter.EndpointURL(host, vals[obv1.BucketPort]); u != "" {
				vals["AWS_ENDPOINT_URL"] = u // the server's scheme: https on any port with --tls-cert
			}
		}
	}
	if showSecrets {
		for k, v := range c.secretData() {
			vals[k] = string(v)
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(io.Out, "export %s=%s\n", k, ShellQuote(vals[k]))
	}
	if !showSecrets && len(c.secretData()) > 0 {
		fmt.Fprintf(io.ErrOut, "note: %s and %s are left out; add --show-secrets to include them\n", obv1.AccessKeyID, obv1.SecretAccessKey)
	}
	c.noteEndpoint(io)
	return nil
}

// EndpointNoter is the local target's: it says when nothing serves S3 at
// a claim's BUCKET_HOST:BUCKET_PORT, and how to start it.
type EndpointNoter interface {
	EndpointNote(host, port string) string
	// EndpointURL is the URL of the server listening at host:port, or "".
	EndpointURL(host, port string) string
}

func (c *connection) noteEndpoint(io *iostreams.IOStreams) {
	if c.noter == nil || c.configMap == nil {
		return
	}
	if note := c.noter.EndpointNote(c.configMap.Data[obv1.BucketHost], c.configMap.Data[obv1.BucketPort]); note != "" {
		fmt.Fprintln(io.ErrOut, "note: "+note)
	}
}

// ShellQuote quotes s for a POSIX shell.
func ShellQuote(s string) string {
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
			continue
		}
		out += string(r)
	}
	return out + "'"
}

func (c *connection) print(w io.Writer, tty, showSecrets bool) error {
	if c.configMap == nil && c.secret == nil {
		_, err := fmt.Fprintln(w, "  (not yet: the provisioner writes a ConfigMap and a Secret named after the claim once it is Bound)")
		return err
	}
	return printData(w, tty, showSecrets, c.secretData(), c.configMapData())
}

// PrintConnection prints a claim's connection details: the ConfigMap's
// values and the Secret's keys, masked unless showSecrets.
func PrintConnection(ctx context.Context, ios *iostreams.IOStreams, client *kube.Client, claim *unstructured.Unstructured, showSecrets bool) error {
	conn, err := claimConnection(ctx, client, claim)
	if err != nil {
		return err
	}
	fmt.Fprintln(ios.Out, "Connection:")
	if err := conn.print(ios.Out, ios.IsStdoutTTY(), showSecrets); err != nil {
		return err
	}
	fmt.Fprintf(ios.ErrOut, "for a shell: eval \"$(nb obc status %s -n %s -o env --show-secrets)\"\n", claim.GetName(), claim.GetNamespace())
	conn.noteEndpoint(ios)
	return nil
}
