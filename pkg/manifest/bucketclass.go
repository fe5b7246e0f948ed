package manifest

import (
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	nbv1 "github.com/nbctl/nb/pkg/apis/noobaa/v1alpha1"
	"github.com/nbctl/nb/pkg/exitcode"
	"github.com/nbctl/nb/pkg/placement"
)

// MaxTiers is the operator's limit on placement tiers.
const MaxTiers = 2

// TierInput is one tier as given on the command line.
type TierInput struct {
	// Flag is where the tier came from, for error messages.
	Flag      string
	Placement string
	Stores    []string
}

// ParseTier parses --tier PLACEMENT:STORE[,STORE...] (PLACEMENT may be
// empty for a single store, e.g. ":aws1").
func ParseTier(v string) (TierInput, error) {
	placement, stores, ok := strings.Cut(v, ":")
	if !ok {
		return TierInput{}, exitcode.Usagef("--tier", "invalid tier %q: use PLACEMENT:STORE[,STORE...], e.g. Mirror:aws1,pv1", v)
	}
	t := TierInput{Flag: "--tier", Placement: strings.TrimSpace(placement)}
	for _, s := range strings.Split(stores, ",") {
		if s = strings.TrimSpace(s); s != "" {
			t.Stores = append(t.Stores, s)
		}
	}
	return t, nil
}

// NamespacePolicyInput is `nb bucketclass create namespace-bucketclass`.
type NamespacePolicyInput struct {
	// Type is single, multi or cache.
	Type          string
	Resource      string
	ReadResources []string
	WriteResource string
	HubResource   string
	// TTL of cached objects in milliseconds.
	TTL    int
	Prefix string
}

// BucketClass is what `nb bucketclass create` was asked for.
type BucketClass struct {
	Name      string
	Namespace string
	// Tiers of the placement policy; for a namespace cache class, the tier
	// that holds the cache.
	Tiers           []TierInput
	NamespacePolicy *NamespacePolicyInput
	MaxSize         string
	MaxObjects      string
	// ReplicationPolicy is the JSON content of --replication-policy.
	ReplicationPolicy string
	// ErasureCoding is "K+M" for nb's data path (an annotation the
	// operator ignores): Spread tiers are erasure-coded.
	ErasureCoding string
}

// Validate checks the class against the operator's rules, and the rules the
// operator documents but does not check (Mirror and Spread need 2 stores).
func (b *BucketClass) Validate() error {
	if err := ValidateName("NAME", "BucketClass", b.Name); err != nil {
		return err
	}
	if err := ValidateNamespace("--namespace", b.Namespace); err != nil {
		return err
	}
	if b.NamespacePolicy != nil {
		if err := b.NamespacePolicy.validate(); err != nil {
			return err
		}
		if b.NamespacePolicy.Type == "cache" && len(b.Tiers) == 0 {
			return exitcode.Usagef("--backingstores", "a cache namespace class needs the backing stores that hold the cache: pass --backingstores (and --placement)")
		}
		if b.NamespacePolicy.Type != "cache" && len(b.Tiers) > 0 {
			return exitcode.Usagef("--backingstores", "only a cache namespace class takes backing stores")
		}
	} else if len(b.Tiers) == 0 {
		return exitcode.Usagef("--backingstores", "at least one backing store is required, e.g. --backingstores aws1,pv1 --placement Mirror")
	}
	if len(b.Tiers) > MaxTiers {
		return exitcode.Usagef("--tier", "%s given; a bucket class supports 1 or 2 tiers", plural(len(b.Tiers), "tier"))
	}
	seen := map[string]int{}
	for i := range b.Tiers {
		t := &b.Tiers[i]
		flag := t.Flag
		if flag == "" {
			flag = "--backingstores"
		}
		if len(t.Stores) == 0 {
			return exitcode.Usagef(flag, "tier %d has no backing stores", i+1)
		}
		if t.Placement != "" {
			p, err := oneOf(placementFlag(flag), t.Placement, string(nbv1.TierPlacementMirror), string(nbv1.TierPlacementSpread))
			if err != nil {
				return err
			}
			t.Placement = p
		}
		switch {
		case t.Placement == "" && len(t.Stores) > 1:
			return exitcode.Usagef(placementFlag(flag), "tier %d has %d stores: choose --placement Mirror (a copy on each) or Spread (data split across them)", i+1, len(t.Stores))
		case t.Placement != "" && len(t.Stores) < 2:
			return exitcode.Usagef(flag, "%s needs at least 2 backing stores (tier %d has %d): add a store, or leave --placement out for a single store", t.Placement, i+1, len(t.Stores))
		}
		for _, s := range t.Stores {
			if err := ValidateName(flag, "BackingStore", s); err != nil {
				return err
			}
			if prev, dup := seen[s]; dup {
				if prev == i {
					return exitcode.Usagef(flag, "backing store %q is listed twice in tier %d", s, i+1)
				}
				return exitcode.Usagef(flag, "backing store %q is in tiers %d and %d; a store may be in one tier only", s, prev+1, i+1)
			}
			seen[s] = i
		}
	}
	if err := ValidateQuota(b.MaxSize, b.MaxObjects); err != nil {
		return err
	}
	if err := b.validateErasure(); err != nil {
		return err
	}
	return validateReplicationPolicy(b.ReplicationPolicy)
}

// validateErasure: K+M needs a Spread tier of at least K+M stores.
func (b *BucketClass) validateErasure() error {
	if b.ErasureCoding == "" {
		return nil
	}
	k, m, err := placement.ParseErasure(b.ErasureCoding)
	if err != nil {
		return exitcode.Usagef("--erasure-coding", "%v: use K+M, e.g. 2+1", err)
	}
	spread := false
	for i, t := range b.Tiers {
		if t.Placement == string(nbv1.TierPlacementSpread) {
			spread = true
			if len(t.Stores) < k+m {
				return exitcode.Usagef("--erasure-coding", "%d+%d needs a Spread tier of at least %d stores; tier %d has %d", k, m, k+m, i+1, len(t.Stores))
			}
		}
	}
	if !spread {
		return exitcode.Usagef("--erasure-coding", "erasure coding applies to Spread tiers: add --placement Spread")
	}
	return nil
}

func placementFlag(flag string) string {
	if flag == "--tier" {
		return "--tier"
	}
	return "--placement"
}

func (n *NamespacePolicyInput) validate() error {
	switch n.Type {
	case "single":
		if err := required("--resource", n.Resource, "the namespace store to serve"); err != nil {
			return err
		}
		return ValidateName("--resource", "NamespaceStore", n.Resource)
	case "multi":
		if len(n.ReadResources) == 0 {
			return exitcode.Usagef("--read-resources", "at least one namespace store to read from is required")
		}
		for _, r := range n.ReadResources {
			if err := ValidateName("--read-resources", "NamespaceStore", r); err != nil {
				return err
			}
		}
		if n.WriteResource != "" {
			return ValidateName("--write-resource", "NamespaceStore", n.WriteResource)
		}
		return nil
	case "cache":
		if err := required("--hub-resource", n.HubResource, "the namespace store to cache"); err != nil {
			return err
		}
		return ValidateName("--hub-resource", "NamespaceStore", n.HubResource)
	}
	return exitcode.Usagef("TYPE", "unknown namespace policy %q: use single, multi or cache", n.Type)
}

func validateReplicationPolicy(policy string) error {
	if policy == "" {
		return nil
	}
	var doc struct {
		Rules []json.RawMessage `json:"rules"`
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		var rules []json.RawMessage
		if json.Unmarshal([]byte(policy), &rules) != nil {
			return exitcode.Usagef("--replication-policy", "the file is not a JSON replication policy: %v", err)
		}
		doc.Rules = rules
	}
	if len(doc.Rules) == 0 {
		return exitcode.Usagef("--replication-policy", "the policy has no rules")
	}
	return nil
}

// Build makes the BucketClass. Call Validate first.
func (b *BucketClass) Build() *nbv1.BucketClass {
	bc := &nbv1.BucketClass{
		TypeMeta: metav1.TypeMeta{APIVersion: nbv1.GroupVersion.String(), Kind: "BucketClass"},
		ObjectMeta: metav1.ObjectMeta{Name: b.Name, Namespace: b.Namespace,
			Labels: map[string]string{nbv1.LabelApp: nbv1.LabelAppValue}},
		Spec: nbv1.BucketClassSpec{ReplicationPolicy: b.ReplicationPolicy},
	}
	if len(b.Tiers) > 0 {
		bc.Spec.PlacementPolicy = &nbv1.PlacementPolicy{}
		for _, t := range b.Tiers {
			bc.Spec.PlacementPolicy.Tiers = append(bc.Spec.PlacementPolicy.Tiers, nbv1.Tier{
				Placement: nbv1.TierPlacement(t.Placement), BackingStores: append([]string(nil), t.Stores...),
			})
		}
	}
	if n := b.NamespacePolicy; n != nil {
		np := &nbv1.NamespacePolicy{}
		switch n.Type {
		case "single":
			np.Type = nbv1.NamespacePolicyTypeSingle
			np.Single = &nbv1.SingleNamespacePolicy{Resource: n.Resource}
		case "multi":
			np.Type = nbv1.NamespacePolicyTypeMulti
			np.Multi = &nbv1.MultiNamespacePolicy{ReadResources: append([]string(nil), n.ReadResources...), WriteResource: n.WriteResource}
		case "cache":
			np.Type = nbv1.NamespacePolicyTypeCache
			np.Cache = &nbv1.CacheNamespacePolicy{HubResource: n.HubResource, Caching: &nbv1.CacheSpec{TTL: n.TTL, Prefix: n.Prefix}}
		}
		bc.Spec.NamespacePolicy = np
	}
	if b.ErasureCoding != "" {
		bc.Annotations = map[string]string{placement.ErasureAnnotation: b.ErasureCoding}
	}
	if b.MaxSize != "" || b.MaxObjects != "" {
		bc.Spec.Quota = &nbv1.Quota{MaxSize: b.MaxSize, MaxObjects: b.MaxObjects}
	}
	return bc
}
