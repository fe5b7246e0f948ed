package placement

import "context"

// Budget bounds the chunk buffers that all of an engine's Puts and reads
// hold at once: what keeps a server's memory flat however many requests
// it serves. A call takes its first buffer from the budget (waiting for
// one if need be) and further ones only while the budget has them free,
// so that no call waits for a buffer while it holds some: calls slow
// down under load, they never deadlock.
type Budget struct{ slots chan struct{} }

// NewBudget allows n chunk buffers in flight.
func NewBudget(n int) *Budget {
	if n < 1 {
		n = 1
	}
	return &Budget{slots: make(chan struct{}, n)}
}

// take returns how many of want buffers the caller may hold: at least one
// (waiting for it), at most want.
func (b *Budget) take(ctx context.Context, want int) (int, error) {
	if b == nil {
		return want, nil
	}
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	n := 1
	for n < want {
		select {
		case b.slots <- struct{}{}:
			n++
		default:
			return n, nil
		}
	}
	return n, nil
}

// give returns n buffers to the budget.
func (b *Budget) give(n int) {
	if b == nil {
		return
	}
	for i := 0; i < n; i++ {
		<-b.slots
	}
}
