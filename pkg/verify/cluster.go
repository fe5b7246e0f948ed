package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	obv1 "github.com/nbctl/nb/pkg/apis/objectbucket/v1alpha1"
	"github.com/nbctl/nb/pkg/apis/status"
	s3store "github.com/nbctl/nb/pkg/blockstore/s3"
	"github.com/nbctl/nb/pkg/kube"
	"github.com/nbctl/nb/pkg/manifest"
)

// ClusterInput adds what a cluster needs: how to reach NooBaa's S3
// endpoint, and whether to disrupt the bucket class for real.
type ClusterInput struct {
	Input
	// Endpoint overrides the claim's BUCKET_HOST:BUCKET_PORT.
	Endpoint string
	// AccessKey and SecretKey override the claim's Secret (with Endpoint).
	AccessKey, SecretKey string
	CABundle             []byte
	Insecure             bool
	// Disrupt drops each store from the bucket class in turn, reads the
	// object back, and restores the class.
	Disrupt bool
	// Settle is how long to wait after the upload before disrupting, for
	// NooBaa's asynchronous mirroring to complete.
	Settle time.Duration
	// OnWarning reports problems that do not stop the verification.
	OnWarning func(string)
	// InCluster: nb runs in a pod, where service names resolve.
	InCluster bool
	// BindTimeout bounds the wait for a temporary claim (BucketClass
	// without Claim) to be Bound; 0 means DefaultBindTimeout.
	BindTimeout time.Duration
	// OnProgress reports the temporary claim's progress while it binds.
	OnProgress func(status.Progress)
	// FailStores, when set, makes each failure set's stores fail for real
	// until release is called (nb serve on the local target does it);
	// how says how they failed.
	FailStores func(ctx context.Context, ns string, stores []string) (release func(), how string, err error)
	// Target names the target in the report (default "cluster").
	Target string
}

// DefaultBindTimeout is how long a temporary claim may take to be Bound.
const DefaultBindTimeout = 5 * time.Minute

// LabelVerify marks the temporary claims nb verify creates, so that one a
// killed run left behind can be found: kubectl get obc -l nb.noobaa.io/verify.
const LabelVerify = "nb.noobaa.io/verify"

// Cluster verifies a claim's bucket through NooBaa's S3 endpoint: a real
// S3 round trip, the survivable losses computed from the live bucket class
// and store phases, and with Disrupt the real failover of the walk-through.
func Cluster(ctx context.Context, c *kube.Client, in ClusterInput) (*Report, error) {
	rep := &Report{Target: "cluster", Claim: in.Claim}
	if in.Target != "" {
		rep.Target = in.Target
	}
	if in.Claim == "" {
		claim, err := temporaryClaim(ctx, c, in)
		if claim != nil {
			rep.Claim, rep.TemporaryClaim, in.Claim = claim.GetName(), true, claim.GetName()
			if in.Track != nil {
				if done, terr := in.Track(Leftover{Claim: claim.GetNamespace() + "/" + claim.GetName()}); terr == nil {
					defer done()
				}
			}
			defer func() {
				if in.Keep {
					return
				}
				if derr := c.Delete(context.WithoutCancel(ctx), obv1.ObjectBucketClaimGVR, claim); derr != nil && in.OnWarning != nil {
					in.OnWarning(fmt.Sprintf("the temporary obc %s/%s could not be deleted, delete it by hand: %v", claim.GetNamespace(), claim.GetName(), derr))
				}
			}()
		}
		if err != nil {
			return nil, err
		}
	}
	sub, err := resolve(ctx, c, in.Input)
	if err != nil {
		return nil, err
	}
	cm, err := c.ConfigMap(ctx, in.ClaimNamespace, in.Claim)
	if err != nil {
		return nil, err
	}
	if cm == nil {
		return nil, fmt.Errorf("obc %q is Bound but its ConfigMap %s/%s is missing", in.Claim, in.ClaimNamespace, in.Claim)
	}
	rep.Bucket = cm.Data[obv1.BucketName]
	endpoint := in.Endpoint
	if endpoint == "" {
		endpoint = obv1.EndpointURL(cm.Data[obv1.BucketHost], cm.Data[obv1.BucketPort])
		if host := cm.Data[obv1.BucketHost]; inClusterName(host) && !in.InCluster {
			// Outside the cluster the service name does not resolve: use the
			// s3 Service's load-balancer address when it has one.
			svcNS := strings.Split(host, ".")[1]
			if lb := loadBalancer(ctx, c, svcNS, strings.Split(host, ".")[0]); lb != "" {
				endpoint = "https://" + lb
			} else if in.OnWarning != nil {
				in.OnWarning(fmt.Sprintf("BUCKET_HOST %s is a name inside the cluster and the %s Service has no load-balancer address: pass --endpoint (a route or a port-forward) if nb cannot reach it", host, strings.Split(host, ".")[0]))
			}
		}
	}
	sysNS := sub.namespace
	access, secret := in.AccessKey, in.SecretKey
	if (access == "" || secret == "") && in.Endpoint != "" {
		// An endpoint of the user's: NooBaa's admin account works on
		// every bucket, as the operator's docs use it.
		if admin, err := c.Secret(ctx, sysNS, AdminSecret); err == nil && admin != nil &&
			len(admin.Data[obv1.AccessKeyID]) > 0 && len(admin.Data[obv1.SecretAccessKey]) > 0 {
			access, secret = string(admin.Data[obv1.AccessKeyID]), string(admin.Data[obv1.SecretAccessKey])
		}
	}
	if access == "" || secret == "" {
		sec, err := c.Secret(ctx, in.ClaimNamespace, in.Claim)
		if err != nil {
			return nil, err
		}
		if sec == nil {
			return nil, fmt.Errorf("obc %q is Bound but its Secret %s/%s is missing", in.Claim, in.ClaimNamespace, in.Claim)
		}
		access, secret = string(sec.Data[obv1.AccessKeyID]), string(sec.Data[obv1.SecretAccessKey])
	}
	region := cm.Data[obv1.BucketRegion]
	store, err := s3store.New(s3store.Config{Name: "noobaa", Endpoint: endpoint, Region: region, Bucket: rep.Bucket,
		AccessKey: access, SecretKey: secret, PathStyle: true, CABundle: in.CABundle, InsecureSkipVerify: in.Insecure, Timeout: -1})
	if err != nil {
		return nil, err
	}
	client := store.Client()

	// The placement the bucket's class promises, from the live objects.
	className, classObj, pol := sub.className, sub.class, sub.policy
	rep.BucketClass = className
	rep.Policy = pol.String()
	if in.LockStores != nil {
		release, err := in.LockStores(ctx, sysNS, Stores(pol))
		if err != nil {
			return nil, err
		}
		defer release()
	}
	var free map[string]int64
	if in.StoreFree != nil {
		if free, err = in.StoreFree(ctx, sysNS, Stores(pol)); err != nil {
			return nil, err
		}
	}
	if err := checkInput(in.Input, pol, className, free); err != nil {
		return nil, err
	}

	// Upload, hashing on the way; multipart for large objects.
	rep.Key = testKey()
	if in.Track != nil && !rep.TemporaryClaim {
		done, err := in.Track(Leftover{Namespace: sysNS, Bucket: rep.Bucket, Key: rep.Key})
		if err != nil {
			return nil, err
		}
		defer done()
	}
	src, _ := in.source()
	h := NewWholeHasher()
	start := time.Now()
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = 8 << 20
		o.Concurrency = 4
	})
	if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket: aws.String(rep.Bucket), Key: aws.String(rep.Key), Body: io.TeeReader(src, h),
	}); err != nil {
		return nil, fmt.Errorf("upload to %s: %w", endpoint, err)
	}
	rep.UploadSeconds = time.Since(start).Seconds()
	rep.Size, rep.SHA256 = h.N(), h.Sum()
	up := upload{sha256: rep.SHA256, size: h.N(), digests: h.Digests()}
	cleanCtx := context.WithoutCancel(ctx)
	defer func() {
		if in.Keep {
			rep.Kept = true
			return
		}
		_, _ = client.DeleteObject(cleanCtx, &s3.DeleteObjectInput{Bucket: aws.String(rep.Bucket), Key: aws.String(rep.Key)})
	}()

	// A plain read back first: the round trip itself.
	base := readCase(ctx, client, rep.Bucket, rep.Key, up)
	base.Failed, base.How, base.Promised = []string{}, "none", true
	base.Judge()
	rep.Cases = append(rep.Cases, base)

	// Then each store: predicted from the live phases, or for real.
	stores, err := storeObjects(ctx, c, sysNS, pol)
	if err != nil {
		return nil, err
	}
	if in.Disrupt && in.Settle > 0 {
		select {
		case <-time.After(in.Settle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// Stores that are not Ready now count as already lost: the bucket
	// survives a loss only if it does with them down too.
	down := map[string]bool{}
	for name, obj := range stores {
		if p, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); p != "Ready" {
			down[name] = true
		}
	}
	for _, set := range FailureSets(pol, in.Fail) {
		failed := map[string]bool{}
		for s := range down {
			failed[s] = true
		}
		var typesOf []string
		for _, s := range set {
			failed[s] = true
			t, _, _ := unstructured.NestedString(stores[s].Object, "spec", "type")
			typesOf = append(typesOf, t)
		}
		cs := Case{Failed: set, Types: typesOf, Promised: pol.Promise(failed)}
		if in.OnCase != nil {
			in.OnCase(set)
		}
		if in.FailStores != nil {
			release, how, err := in.FailStores(ctx, sysNS, set)
			if err != nil {
				return rep, fmt.Errorf("failing %s: %w", strings.Join(set, "+"), err)
			}
			res := readCase(ctx, client, rep.Bucket, rep.Key, up)
			release()
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			res.Failed, res.Types, res.Promised, res.How = set, typesOf, cs.Promised, how
			res.Judge()
			rep.Cases = append(rep.Cases, res)
			continue
		}
		if !in.Disrupt || len(set) > 1 {
			cs.How, cs.Result = "predicted from "+phases(set, stores), ResultNotTried
			cs.Predicted, cs.OK = cs.Promised, true
			rep.Cases = append(rep.Cases, cs)
			continue
		}
		res, err := disrupt(ctx, c, classObj, set[0], func() Case {
			return readCase(ctx, client, rep.Bucket, rep.Key, up)
		})
		if err != nil {
			return rep, err
		}
		res.Failed, res.Types, res.Promised = set, typesOf, cs.Promised
		res.How = "dropped from bucketclass " + className
		res.Judge()
		rep.Cases = append(rep.Cases, res)
	}
	rep.Conclude()
	return rep, nil
}

// AdminSecret is NooBaa's admin account Secret in the system namespace.
const AdminSecret = "noobaa-admin"

// temporaryClaim creates a claim of in.BucketClass and waits until it is
// Bound. The claim is returned whenever it was created, so that the caller
// deletes it also when binding failed.
func temporaryClaim(ctx context.Context, c *kube.Client, in ClusterInput) (*unstructured.Unstructured, error) {
	if _, err := c.Get(ctx, nbv1.BucketClassGVR, "bucketclass", in.Namespace, in.BucketClass); err != nil {
		return nil, err
	}
	spec := manifest.Claim{Name: "nb-verify-" + rand.String(5), AppNamespace: in.ClaimNamespace,
		NooBaaNamespace: in.Namespace, BucketClass: in.BucketClass, UID: -1, GID: -1}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(spec.Build())
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: obj}
	labels := u.GetLabels()
	labels[LabelVerify] = "true"
	u.SetLabels(labels)
	res, err := c.Create(ctx, kube.CreateRequest{Object: u, GVR: obv1.ObjectBucketClaimGVR, Noun: "obc"})
	if err != nil {
		return nil, fmt.Errorf("create a temporary claim of bucketclass %q: %w", in.BucketClass, err)
	}
	timeout := in.BindTimeout
	if timeout <= 0 {
		timeout = DefaultBindTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	bound, err := c.Wait(wctx, kube.WaitRequest{GVR: obv1.ObjectBucketClaimGVR, Kind: "ObjectBucketClaim", Noun: "obc",
		Namespace: u.GetNamespace(), Name: u.GetName(), Condition: obv1.ClaimBound, OnProgress: in.OnProgress,
		OnWarning: func(reason, msg string) {
			if in.OnWarning != nil {
				in.OnWarning(fmt.Sprintf("obc %s event %s: %s", u.GetName(), reason, msg))
			}
		}})
	if err != nil {
		return res.Object, fmt.Errorf("temporary claim %s of bucketclass %q: %w", u.GetName(), in.BucketClass, err)
	}
	return bound, nil
}

// readCase reads the object back and compares it with the upload.
func readCase(ctx context.Context, client *s3.Client, bucket, key string, up upload) Case {
	c := Case{}
	start := time.Now()
	h := NewHasher()
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		_, err = io.Copy(h, out.Body)
		out.Body.Close()
	}
	c.Seconds = time.Since(start).Seconds()
	switch {
	case err != nil:
		c.Result, c.Error = ResultUnavailable, err.Error()
	default:
		c.compare(h, up)
	}
	return c
}

// disrupt drops store from the class's tiers, runs read, and puts the
// class's placement back as it was, also on error or Ctrl-C.
func disrupt(ctx context.Context, c *kube.Client, class *unstructured.Unstructured, store string, read func() Case) (res Case, err error) {
	tiers, _, _ := unstructured.NestedSlice(class.Object, "spec", "placementPolicy", "tiers")
	var dropped []interface{}
	for _, t := range tiers {
		tm := runtime.DeepCopyJSONValue(t).(map[string]interface{})
		list, _, _ := unstructured.NestedStringSlice(tm, "backingStores")
		var keep []interface{}
		for _, s := range list {
			if s != store {
				keep = append(keep, s)
			}
		}
		if len(keep) == 0 {
			return Case{Result: ResultNotTried, Error: "the store is its tier's only one: dropping it would leave the tier empty"}, nil
		}
		tm["backingStores"] = keep
		dropped = append(dropped, tm)
	}
	gvr := nbv1.BucketClassGVR
	patch := func(ctx context.Context, tiers []interface{}) error {
		body := map[string]interface{}{"spec": map[string]interface{}{"placementPolicy": map[string]interface{}{"tiers": tiers}}}
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		_, err = c.Dynamic.Resource(gvr).Namespace(class.GetNamespace()).Patch(ctx, class.GetName(), types.MergePatchType, raw, metav1.PatchOptions{FieldManager: "nb-verify"})
		return err
	}
	if err := patch(ctx, dropped); err != nil {
		return res, fmt.Errorf("dropping %q from bucketclass %q: %w", store, class.GetName(), err)
	}
	defer func() {
		restoreCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := patch(restoreCtx, tiers); rerr != nil {
			err = errors.Join(err, fmt.Errorf("RESTORING bucketclass %q failed, put its tiers back by hand: %w", class.GetName(), rerr))
		}
	}()
	res = read()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

// phases says the live state of stores, e.g. "pv1 Ready/OPTIMAL".
func phases(set []string, stores map[string]*unstructured.Unstructured) string {
	var out []string
	for _, s := range set {
		p, _, _ := unstructured.NestedString(stores[s].Object, "status", "phase")
		st := s + " " + orNone(p)
		if m := nbv1.Mode(stores[s]); m != "" {
			st += "/" + m
		}
		out = append(out, st)
	}
	return strings.Join(out, ", ")
}

// inClusterName reports whether host is a Service name (name.ns.svc...).
func inClusterName(host string) bool {
	parts := strings.Split(host, ".")
	return len(parts) >= 3 && parts[2] == "svc"
}

// loadBalancer returns the first load-balancer address of a Service.
func loadBalancer(ctx context.Context, c *kube.Client, ns, name string) string {
	svc, err := c.Dynamic.Resource(serviceGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	ingress, _, _ := unstructured.NestedSlice(svc.Object, "status", "loadBalancer", "ingress")
	for _, i := range ingress {
		m, _ := i.(map[string]interface{})
		for _, k := range []string{"hostname", "ip"} {
			if v, _ := m[k].(string); v != "" {
				return v
			}
		}
	}
	return ""
}

var serviceGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
