package care

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/nbctl/nb/pkg/reconciler"
)

// Defaults of background care (nb serve's flags).
const (
	DefaultScrubInterval = 24 * time.Hour
	DefaultUploadExpiry  = 7 * 24 * time.Hour
)

// Loop is background care: what nb serve runs beside the S3 endpoint.
type Loop struct {
	R *reconciler.Reconciler
	// Every is how often it looks for work (default 30 s): degraded
	// objects are healed within about that long of their store's return.
	Every time.Duration
	// ScrubEvery is how often every bucket is scrubbed (0: never). One
	// bucket is scrubbed at a time, the least recently scrubbed first.
	ScrubEvery time.Duration
	// GCEvery is how often garbage is collected and abandoned uploads
	// aborted (default 5 min).
	GCEvery time.Duration
	// UploadAge is how old an incomplete multipart upload must be to be
	// aborted (0: never).
	UploadAge time.Duration
	// Gap is the pause between two objects of a heal or scrub, so that
	// S3 requests keep the disks (default 5 ms).
	Gap time.Duration
	// Rate bounds the bytes per second background care reads (default
	// DefaultRate; negative: unbounded).
	Rate float64
	// Busy, when set, says how many S3 requests that move data are in
	// flight: care waits while there are any (at most YieldFor per block,
	// so that it still progresses under constant traffic).
	Busy func() int64
	// Logf reports what was done.
	Logf func(format string, args ...any)
	Now  func() time.Time
	// Cleanup, when set, runs every GCEvery too (what killed nb verify
	// processes left).
	Cleanup func(ctx context.Context) error

	lastGC  time.Time
	limiter *rate.Limiter
}

// DefaultRate is background care's read rate: a fraction of what one disk
// gives, so that S3 requests keep most of it (docs/benchmarks.md).
const DefaultRate = 64 << 20

// YieldFor bounds how long care waits for S3 traffic to pause before it
// reads a block anyway.
const YieldFor = 2 * time.Second

// throttle waits while S3 requests are in flight (up to YieldFor), then
// until n more bytes may be read.
func (l *Loop) throttle(ctx context.Context, n int) error {
	if l.Busy != nil {
		deadline := time.Now().Add(YieldFor)
		for l.Busy() > 0 && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	if l.limiter == nil {
		return nil
	}
	burst := l.limiter.Burst()
	for n > 0 {
		step := min(n, burst)
		if err := l.limiter.WaitN(ctx, step); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

func (l *Loop) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Loop) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}

// Run cares until ctx ends.
func (l *Loop) Run(ctx context.Context) {
	r := l.Rate
	if r == 0 {
		r = DefaultRate
	}
	if r > 0 {
		l.limiter = rate.NewLimiter(rate.Limit(r), 8<<20)
	}
	every := l.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		l.Pass(ctx)
		t.Reset(every)
	}
}

// opts are the options of the loop's runs.
func (l *Loop) opts() Options {
	gap := l.Gap
	if gap <= 0 {
		gap = 5 * time.Millisecond
	}
	return Options{UploadAge: l.UploadAge, Now: l.Now, Throttle: l.throttle, Pause: func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(gap):
			return nil
		}
	}}
}

// Pass does one round: heal what is degraded, collect when due, scrub
// the bucket most overdue.
func (l *Loop) Pass(ctx context.Context) {
	buckets, err := Buckets(ctx, l.R)
	if err != nil {
		if ctx.Err() == nil {
			l.logf("care: %v", err)
		}
		return
	}
	meta, err := l.R.Meta()
	if err != nil {
		return
	}
	rebalanced := false
	for _, b := range buckets {
		u, err := meta.UsageOf(b.Name)
		if err != nil {
			continue
		}
		if u.Misplaced > 0 && !rebalanced {
			// One bucket per round: a class change may move a lot.
			rebalanced = true
			rep, err := Do(ctx, l.R, b, Rebalance, l.opts())
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				l.logf("care: rebalance %s: %v", b.Name, err)
			case rep.Rebalance != nil:
				l.logf("care: rebalanced %s: %d object(s) moved, %d placed already, %d could not be read", b.Name, rep.Rebalance.Moved, rep.Rebalance.Placed, len(rep.Rebalance.Unreadable))
			}
		}
		if u.Degraded == 0 {
			continue
		}
		rep, err := Do(ctx, l.R, b, Heal, l.opts())
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			l.logf("care: heal %s: %v", b.Name, err)
		case len(rep.Healed) > 0 || rep.Lost():
			l.logf("care: healed %d object(s) of %s (%d block(s) repaired, %d still missing, %d lost)", len(rep.Healed), b.Name, rep.Repaired, rep.Missing, len(rep.RepairReport.Lost))
		}
	}
	gcEvery := l.GCEvery
	if gcEvery <= 0 {
		gcEvery = 5 * time.Minute
	}
	if l.now().Sub(l.lastGC) >= gcEvery {
		l.lastGC = l.now()
		if l.Cleanup != nil {
			if err := l.Cleanup(ctx); err != nil && ctx.Err() == nil {
				l.logf("care: %v", err)
			}
		}
		for _, b := range buckets {
			rep, err := Do(ctx, l.R, b, GC, l.opts())
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				l.logf("care: gc %s: %v", b.Name, err)
			} else if rep.AbortedUploads > 0 {
				l.logf("care: aborted %d multipart upload(s) of %s older than %s", rep.AbortedUploads, b.Name, l.UploadAge)
			}
		}
	}
	if l.ScrubEvery <= 0 {
		return
	}
	var due *Bucket
	var dueSince time.Time
	for i, b := range buckets {
		c, err := meta.CareOf(b.Name)
		if err != nil {
			continue
		}
		last := time.Time{}
		if c.Scrub != nil {
			last = c.Scrub.Finished
		}
		if l.now().Sub(last) < l.ScrubEvery {
			continue
		}
		if due == nil || last.Before(dueSince) {
			due, dueSince = &buckets[i], last
		}
	}
	if due == nil {
		return
	}
	rep, err := Do(ctx, l.R, *due, Scrub, l.opts())
	switch {
	case ctx.Err() != nil:
	case err != nil:
		l.logf("care: scrub %s: %v", due.Name, err)
	default:
		l.logf("care: scrubbed %s: %d object(s), %d block(s) checked, %d repaired, %d lost", due.Name, rep.Objects, rep.BlocksChecked, rep.Repaired, len(rep.RepairReport.Lost))
	}
}
