package gateway

import "sync/atomic"

// Busy counts the data-moving S3 requests in flight (a GET until its body
// is closed), so that background work can yield to them (package care).
type Busy struct{ n atomic.Int64 }

func (b *Busy) enter() {
	if b != nil {
		b.n.Add(1)
	}
}

func (b *Busy) leave() {
	if b != nil {
		b.n.Add(-1)
	}
}

// InFlight is how many such requests are running.
func (b *Busy) InFlight() int64 {
	if b == nil {
		return 0
	}
	return b.n.Load()
}
