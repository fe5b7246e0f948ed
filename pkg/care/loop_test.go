package care

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// throttle takes any size, in burst-sized steps (WaitN refuses more than
// the burst at once).
func TestThrottleTakesMoreThanTheBurst(t *testing.T) {
	l := &Loop{limiter: rate.NewLimiter(rate.Inf, 8<<20)}
	if err := l.throttle(context.Background(), 100<<20); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l = &Loop{limiter: rate.NewLimiter(1, 8<<20)}
	_ = l.limiter.WaitN(context.Background(), 8<<20) // drain the burst
	if err := l.throttle(ctx, 1<<20); err == nil {
		t.Errorf("a cancelled wait did not stop the throttle")
	}
}

// Care waits while S3 requests are in flight, and gives up waiting after
// YieldFor so that it still progresses.
func TestThrottleYieldsToTraffic(t *testing.T) {
	var inFlight atomic.Int64
	inFlight.Store(1)
	l := &Loop{Busy: inFlight.Load}
	done := make(chan error, 1)
	go func() { done <- l.throttle(context.Background(), 4096) }()
	select {
	case <-done:
		t.Fatal("care did not wait for the request in flight")
	case <-time.After(100 * time.Millisecond):
	}
	inFlight.Store(0)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("care kept waiting once the traffic stopped")
	}
}
