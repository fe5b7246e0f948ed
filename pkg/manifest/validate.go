package manifest

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nbctl/nb/pkg/exitcode"
)

// MaxPVPoolNameLength is the operator's limit: pod and PVC names are
// derived from a pv-pool store's name.
const MaxPVPoolNameLength = 43

// pv-pool bounds the operator enforces.
const (
	MinPVPoolVolumes = 1
	MaxPVPoolVolumes = 20
	MinPVSizeGB      = 16
	MaxPVSizeGB      = 1024
)

// ValidateName checks a resource name as the API server would (a DNS-1123
// subdomain), naming arg ("NAME") in the error.
func ValidateName(arg, kind, name string) error {
	if name == "" {
		return exitcode.Usagef(arg, "%s name is required", kind)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return exitcode.Usagef(arg, "invalid %s name %q: %s", kind, name, errs[0])
	}
	return nil
}

// ValidateNamespace checks a namespace name (a DNS-1123 label).
func ValidateNamespace(flag, ns string) error {
	if ns == "" {
		return exitcode.Usagef(flag, "namespace is empty: pass -n NAMESPACE")
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return exitcode.Usagef(flag, "invalid namespace %q: %s", ns, errs[0])
	}
	return nil
}

var (
	s3BucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	gcsBucketRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)
	azureBucketRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
	regionRE      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// ValidateS3BucketName checks the S3 bucket naming rules that AWS and IBM
// COS enforce.
func ValidateS3BucketName(flag, name string) error {
	switch {
	case name == "":
		return exitcode.Usagef(flag, "bucket name is required")
	case !s3BucketRE.MatchString(name):
		return exitcode.Usagef(flag, "invalid bucket name %q: use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", name)
	case strings.Contains(name, ".."):
		return exitcode.Usagef(flag, "invalid bucket name %q: two dots in a row are not allowed", name)
	case net.ParseIP(name) != nil:
		return exitcode.Usagef(flag, "invalid bucket name %q: it must not look like an IP address", name)
	}
	return nil
}

func validateGCSBucket(flag, name string) error {
	if !gcsBucketRE.MatchString(name) {
		return exitcode.Usagef(flag, "invalid bucket name %q: use 3-63 lowercase letters, digits, dots, underscores and hyphens, starting and ending with a letter or digit", name)
	}
	return nil
}

func validateAzureContainer(flag, name string) error {
	if !azureBucketRE.MatchString(name) {
		return exitcode.Usagef(flag, "invalid container name %q: use 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit", name)
	}
	return nil
}

// looseBucketRE is what S3-compatible servers accept beyond AWS's rules
// (Ceph RGW and older MinIO take upper case and underscores): ASCII
// letters, digits, dots, hyphens and underscores, starting and ending
// with a letter or digit.
var looseBucketRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$`)

// validateLooseBucket accepts what S3-compatible servers accept beyond
// AWS's rules, refusing what none does.
func validateLooseBucket(flag, name string) error {
	if !looseBucketRE.MatchString(name) {
		return exitcode.Usagef(flag, "invalid bucket name %q: use 1-255 ASCII letters, digits, dots, hyphens and underscores, starting and ending with a letter or digit", name)
	}
	return nil
}

// relativePath reports whether p stays inside the folder it is relative
// to: not absolute, no ".." segment, no backslashes or control characters.
func relativePath(p string) bool {
	if strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\\\x00\n\r\t") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return false
		}
	}
	return true
}

// ValidateEndpoint checks an S3 endpoint URL. Like the operator, nb accepts
// an endpoint without a scheme and means https.
func ValidateEndpoint(flag, endpoint string) error {
	if endpoint == "" {
		return exitcode.Usagef(flag, "endpoint is required, e.g. --endpoint https://s3.example.com:9000")
	}
	raw := endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return exitcode.Usagef(flag, "invalid endpoint %q: %v", endpoint, unwrapURL(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return exitcode.Usagef(flag, "invalid endpoint %q: scheme must be http or https", endpoint)
	case u.Hostname() == "":
		return exitcode.Usagef(flag, "invalid endpoint %q: no host, e.g. https://s3.example.com:9000", endpoint)
	case !validHost(u.Hostname()):
		return exitcode.Usagef(flag, "invalid endpoint %q: %q is neither a host name nor an IP address, e.g. https://s3.example.com:9000", endpoint, u.Hostname())
	case u.User != nil:
		return exitcode.Usagef(flag, "invalid endpoint %q: put credentials in --access-key/--secret-key, not in the URL", endpoint)
	case u.RawQuery != "" || u.Fragment != "":
		return exitcode.Usagef(flag, "invalid endpoint %q: a query or fragment is not allowed", endpoint)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return exitcode.Usagef(flag, "invalid endpoint %q: port must be 1-65535", endpoint)
		}
	}
	return nil
}

// hostRE is a host name: dot-separated labels of letters, digits, hyphens
// and underscores (container names such as minio_1 have them), none
// starting or ending with a hyphen.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$`)

// validHost accepts an IP address or a host name (any case, at most 253
// characters) whose last label is not all digits (only an IP address is).
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if len(h) > 253 || !hostRE.MatchString(h) {
		return false
	}
	last := h[strings.LastIndex(h, ".")+1:]
	return strings.Trim(last, "0123456789") != ""
}

func unwrapURL(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// ValidateRegion checks the shape of a region name (e.g. us-east-1).
func ValidateRegion(flag, region string) error {
	if len(region) > 64 {
		return exitcode.Usagef(flag, "invalid region: %d characters (a region name is at most 64, e.g. us-east-1)", len(region))
	}
	if region != "" && !regionRE.MatchString(region) {
		return exitcode.Usagef(flag, "invalid region %q: use lowercase letters, digits and hyphens, e.g. us-east-1", region)
	}
	return nil
}

// ValidateSignatureVersion accepts v2 and v4 (or empty for the default).
func ValidateSignatureVersion(flag, v string) error {
	switch v {
	case "", "v2", "v4":
		return nil
	}
	return exitcode.Usagef(flag, "invalid signature version %q: use v4 or v2", v)
}

// ValidateQuota checks --max-size and --max-objects as the operator does:
// size 0 (no quota) or 1Gi..1023Pi, objects a non-negative 32-bit integer.
func ValidateQuota(maxSize, maxObjects string) error {
	if maxSize != "" {
		v, err := ByteSize(maxSize)
		if err != nil {
			return exitcode.Usagef("--max-size", "%v; a quota is 1Gi to 1023Pi, or 0 for none", err)
		}
		const gi, maxBytes = int64(1) << 30, int64(1023) << 50
		if v != 0 && (v < gi || v > maxBytes) {
			return exitcode.Usagef("--max-size", "size %s is out of range: use 1Gi to 1023Pi, or 0 for no quota", maxSize)
		}
	}
	if maxObjects != "" {
		n, err := strconv.ParseInt(maxObjects, 10, 32)
		if err != nil || n < 0 {
			return exitcode.Usagef("--max-objects", "invalid object count %q: use a whole number from 0 to 2147483647", maxObjects)
		}
	}
	return nil
}

// maxByteSize is the largest size nb counts in bytes (an int64).
var maxByteSize = resource.NewQuantity(math.MaxInt64, resource.BinarySI)

// ByteSize parses a size in bytes given as a Kubernetes quantity (64Mi,
// 3G, 1e9). A value that is not one, is negative, or does not fit in 63
// bits is an error saying which: resource.Quantity's own Value() wraps
// such a value around silently. A fraction of a byte rounds up.
func ByteSize(v string) (int64, error) {
	q, err := resource.ParseQuantity(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%q is not a size (such as 64Mi, 3Gi or 2Ti)", v)
	}
	if q.Sign() < 0 {
		return 0, fmt.Errorf("size %q is negative", v)
	}
	if q.Cmp(*maxByteSize) > 0 {
		return 0, fmt.Errorf("size %q is too large (at most 8Ei)", v)
	}
	return q.Value(), nil
}

// FormatBytes writes a size the way ByteSize reads it and --size takes
// it (512Mi, 3Gi, 1.5Ti), to a tenth in the largest unit that fits.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, i := float64(n), 0
	for v >= unit && i < 6 {
		v /= unit
		i++
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	return s + []string{"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[i-1]
}

func parseQuantity(flag, v string) (*resource.Quantity, error) {
	if v == "" {
		return nil, nil
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return nil, exitcode.Usagef(flag, "invalid quantity %q: use a Kubernetes quantity such as 500m, 2 or 4Gi", v)
	}
	if q.Sign() <= 0 {
		return nil, exitcode.Usagef(flag, "quantity %q must be greater than zero", v)
	}
	return &q, nil
}

func required(flag, value, what string) error {
	if strings.TrimSpace(value) == "" {
		return exitcode.Usagef(flag, "%s is required", what)
	}
	return nil
}

func oneOf(flag, value string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if strings.EqualFold(value, a) {
			return a, nil
		}
	}
	return "", exitcode.Usagef(flag, "invalid value %q: use %s", value, strings.Join(allowed, ", "))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
