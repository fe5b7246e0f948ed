package gateway

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
)

// Account is one key pair the endpoint accepts.
type Account struct {
	Access, Secret string
	// Admin sees every bucket and may create and delete buckets; any
	// other account reaches only Bucket (its claim's).
	Admin  bool
	Bucket string
}

// Accounts is the endpoint's identity service (versitygw's
// auth.IAMService): the key pairs of the local state's bound claims and
// NooBaa's admin, kept in memory and replaced as a whole whenever the
// state changes (nb serve watches it), so that keys appear and vanish with
// their claims without a restart. Accounts never create, change or delete
// key pairs themselves: claims and Secrets do.
type Accounts struct {
	mu       sync.RWMutex
	byAccess map[string]Account
	byBucket map[string]string // bucket → its claim's access key
	admin    string

	// Refresh, when set, is called (at most every RefreshEvery) on an
	// unknown key, so that a key bound a moment ago works at once.
	Refresh      func()
	RefreshEvery time.Duration
	lastRefresh  time.Time
	refreshMu    sync.Mutex
}

var _ auth.IAMService = (*Accounts)(nil)

// Set replaces every account.
func (a *Accounts) Set(list []Account) {
	byAccess := make(map[string]Account, len(list))
	byBucket := map[string]string{}
	admin := ""
	for _, acc := range list {
		byAccess[acc.Access] = acc
		if acc.Admin {
			admin = acc.Access
		} else if acc.Bucket != "" {
			byBucket[acc.Bucket] = acc.Access
		}
	}
	a.mu.Lock()
	a.byAccess, a.byBucket, a.admin = byAccess, byBucket, admin
	a.mu.Unlock()
}

// Lookup returns the account of an access key.
func (a *Accounts) Lookup(access string) (Account, bool) {
	a.mu.RLock()
	acc, ok := a.byAccess[access]
	a.mu.RUnlock()
	return acc, ok
}

// ClaimOwner returns the access key of the claim a bucket belongs to.
func (a *Accounts) ClaimOwner(bucket string) (string, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	k, ok := a.byBucket[bucket]
	return k, ok
}

// Admin is the admin account's access key ("" while there is none).
func (a *Accounts) Admin() string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.admin
}

func (a *Accounts) refresh() {
	if a.Refresh == nil {
		return
	}
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	every := a.RefreshEvery
	if every <= 0 {
		every = time.Second
	}
	if time.Since(a.lastRefresh) < every {
		return
	}
	a.lastRefresh = time.Now()
	a.Refresh()
}

// GetUserAccount implements auth.IAMService: called on every request.
func (a *Accounts) GetUserAccount(access string) (auth.Account, error) {
	acc, ok := a.Lookup(access)
	if !ok {
		a.refresh()
		if acc, ok = a.Lookup(access); !ok {
			return auth.Account{}, auth.ErrNoSuchUser
		}
	}
	role := auth.RoleUser
	if acc.Admin {
		role = auth.RoleAdmin
	}
	return auth.Account{Access: acc.Access, Secret: acc.Secret, Role: role}, nil
}

// ResolveAccounts implements auth.IAMService: the keys that do not exist.
func (a *Accounts) ResolveAccounts(keys []string) ([]string, error) {
	missing := []string{}
	for _, k := range keys {
		if _, ok := a.Lookup(k); !ok {
			missing = append(missing, k)
		}
	}
	return missing, nil
}

// ListUserAccounts implements auth.IAMService.
func (a *Accounts) ListUserAccounts() ([]auth.Account, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]auth.Account, 0, len(a.byAccess))
	for _, acc := range a.byAccess {
		role := auth.RoleUser
		if acc.Admin {
			role = auth.RoleAdmin
		}
		out = append(out, auth.Account{Access: acc.Access, Role: role})
	}
	return out, nil
}

func notSupported() error { return s3err.GetAPIError(s3err.ErrAdminMethodNotSupported) }

// CreateAccount implements auth.IAMService: accounts come from claims.
func (a *Accounts) CreateAccount(auth.Account) error { return notSupported() }

// UpdateUserAccount implements auth.IAMService: accounts come from claims.
func (a *Accounts) UpdateUserAccount(string, auth.MutableProps) error { return notSupported() }

// DeleteUserAccount implements auth.IAMService: accounts come from claims.
func (a *Accounts) DeleteUserAccount(string) error { return notSupported() }

// Shutdown implements auth.IAMService.
func (a *Accounts) Shutdown() error { return nil }

// EvaluatePolicy implements versitygw's auth.PolicyEvaluator, the identity
// side of its authorization: an account may do everything to its own
// claim's bucket and list buckets (the listing shows only its own), and
// nothing else, in particular never create a bucket. Without it,
// versitygw would let a bucket policy, once there is one, decide alone,
// and a claim would lose its own bucket to a policy that does not name it;
// with it, as on S3, the owner keeps its rights, a policy can grant other
// accounts (or anyone) more, and an explicit Deny in the policy still
// wins. The admin never gets here (versitygw lets it through).
func (a *Accounts) EvaluatePolicy(access, _ string, actions []auth.Action, resources []string, _ map[string][]string) (auth.PolicyEvaluation, error) {
	acc, ok := a.Lookup(access)
	if !ok {
		return auth.PolicyEvaluation{}, auth.ErrNoSuchUser
	}
	allow := make([][]bool, len(resources))
	for i, res := range resources {
		path, isS3 := strings.CutPrefix(res, auth.ResourceArnPrefix)
		bucket, _, _ := strings.Cut(path, "/")
		own := isS3 && acc.Bucket != "" && bucket == acc.Bucket
		allow[i] = make([]bool, len(actions))
		for j, act := range actions {
			allow[i][j] = act == auth.ListAllMyBucketsAction || own && act != auth.CreateBucketAction
		}
	}
	return evaluation(allow)
}

var _ auth.PolicyEvaluator = (*Accounts)(nil)

// versitygw's policy decisions in v1.8.0 (the version go.mod pins).
const (
	decisionNoMatch = 0
	decisionAllow   = 1
)

// evaluation fills auth.PolicyEvaluation's Decisions, whose element type
// versitygw does not export: an integer enum where, in v1.8.0, 0 is "no
// statement matches" and 1 is "allowed". Anything other than a matrix of
// integers there is refused (the request fails, nothing is allowed), and
// the gateway tests check both values through a real server: the owner
// reaches its bucket beside a policy that does not name it, and another
// claim's account does not reach it.
func evaluation(allow [][]bool) (auth.PolicyEvaluation, error) {
	var ev auth.PolicyEvaluation
	f := reflect.ValueOf(&ev).Elem().FieldByName("Decisions")
	t := f.Type()
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Slice || t.Elem().Elem().Kind() != reflect.Int {
		return ev, fmt.Errorf("versitygw's policy decisions are %s, not integers: the accounts' own rights cannot be given", t)
	}
	rows := reflect.MakeSlice(t, len(allow), len(allow))
	for i, row := range allow {
		r := reflect.MakeSlice(t.Elem(), len(row), len(row))
		for j, ok := range row {
			if ok {
				r.Index(j).SetInt(decisionAllow)
			} else {
				r.Index(j).SetInt(decisionNoMatch)
			}
		}
		rows.Index(i).Set(r)
	}
	f.Set(rows)
	return ev, nil
}
