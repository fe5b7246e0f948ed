package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nbctl/nb/pkg/care"
	"github.com/nbctl/nb/pkg/reconciler"
)

// CareAnswer is the server's answer to a care request.
type CareAnswer struct {
	Reports []care.Report `json:"reports"`
	Error   string        `json:"error,omitempty"`
}

// RunCare runs one kind of care on the named buckets (none: every bucket)
// of r's data path; progress, when set, hears of each object. It stops at
// the first bucket that fails, returning the reports so far.
func RunCare(ctx context.Context, r *reconciler.Reconciler, kind string, buckets []string, uploadAge time.Duration, progress func(bucket string, done, total int)) ([]care.Report, error) {
	all, err := care.Buckets(ctx, r)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, b := range buckets {
		want[b] = true
	}
	var out []care.Report
	for _, b := range all {
		if len(want) > 0 && !want[b.Name] {
			continue
		}
		opt := care.Options{UploadAge: uploadAge}
		if progress != nil {
			name := b.Name
			opt.Progress = func(done, total int) { progress(name, done, total) }
		}
		rep, err := care.Do(ctx, r, b, kind, opt)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w", kind, b.Name, err)
		}
		out = append(out, rep)
	}
	return out, nil
}

// Care runs care in this process, or asks the running nb serve to (it
// owns the data path; progress is then not reported).
func (c *ControlPlane) Care(ctx context.Context, kind string, buckets []string, uploadAge time.Duration, progress func(bucket string, done, total int)) ([]care.Report, error) {
	lease, err := c.Direct()
	if errors.Is(err, ErrServed) {
		q := "/v1/care?kind=" + urlQuery(kind) + "&uploadExpiry=" + urlQuery(uploadAge.String())
		for _, b := range buckets {
			q += "&bucket=" + urlQuery(b)
		}
		resp, err := c.callServer(ctx, http.MethodPost, q, nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var ans CareAnswer
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ans); err != nil {
			return nil, fmt.Errorf("nb serve: care: %w", err)
		}
		if ans.Error != "" {
			return ans.Reports, errors.New(ans.Error)
		}
		return ans.Reports, nil
	}
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	if err := Tolerable(c.Pass(ctx)); err != nil {
		return nil, err
	}
	return RunCare(ctx, c.Reconciler, kind, buckets, uploadAge, progress)
}

// BucketStatuses returns every bucket's health, from the running nb serve
// when there is one.
func (c *ControlPlane) BucketStatuses(ctx context.Context) ([]care.Status, error) {
	lease, err := c.Direct()
	if errors.Is(err, ErrServed) {
		resp, err := c.callServer(ctx, http.MethodGet, "/v1/buckets", nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out []care.Status
		if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&out); err != nil {
			return nil, fmt.Errorf("nb serve: buckets: %w", err)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	if err := Tolerable(c.Pass(ctx)); err != nil {
		return nil, err
	}
	return care.Statuses(ctx, c.Reconciler, nil)
}

// StoresFree reports the free space of stores of namespace ns (bytes; -1
// unknown): from the running nb serve, or from this process's data path.
func (c *ControlPlane) StoresFree(ctx context.Context, ns string, stores []string) (map[string]int64, error) {
	lease, err := c.Direct()
	if errors.Is(err, ErrServed) {
		return c.StoreFree(ctx, ns, stores)
	}
	if err != nil {
		return nil, err
	}
	defer lease.Release()
	eng, _, err := c.Reconciler.OpenEngineCached(ctx, ns)
	if err != nil {
		return nil, err
	}
	return eng.StoreFree(ctx, stores), nil
}
