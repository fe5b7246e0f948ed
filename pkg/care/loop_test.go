package care

import (
	"context"
	"testing"

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
