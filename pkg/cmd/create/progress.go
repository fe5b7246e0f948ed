package create

import (
	"fmt"
	"sync"
	"time"

	"github.com/nbctl/nb/pkg/iostreams"
)

// progress shows a waiting object's state on stderr: on a terminal, one
// status line with a spinner, rewritten in place; elsewhere, one line per
// change, so that logs stay readable. (A dozen lines; a spinner library
// would not handle the log mode, so this is hand-written.)
type progress struct {
	io    *iostreams.IOStreams
	label string
	mu    sync.Mutex
	text  string
	stop  chan struct{}
	done  sync.WaitGroup
	tty   bool
	// ticks drive the spinner (a ticker; a test's channel).
	ticks <-chan time.Time
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func startProgress(io *iostreams.IOStreams, label string) *progress {
	return startProgressTicking(io, label, nil)
}

// startProgressTicking is startProgress with the spinner's ticks given
// (nil: every 100 ms).
func startProgressTicking(io *iostreams.IOStreams, label string, ticks <-chan time.Time) *progress {
	p := &progress{io: io, label: label, stop: make(chan struct{}), tty: io.IsStderrTTY(), ticks: ticks}
	if p.tty {
		var ticker *time.Ticker
		if p.ticks == nil {
			ticker = time.NewTicker(100 * time.Millisecond)
			p.ticks = ticker.C
		}
		p.done.Add(1)
		go p.spin(ticker)
	}
	return p
}

func (p *progress) spin(ticker *time.Ticker) {
	defer p.done.Done()
	if ticker != nil {
		defer ticker.Stop()
	}
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			fmt.Fprint(p.io.ErrOut, "\r\033[K")
			return
		case <-p.ticks:
			p.mu.Lock()
			fmt.Fprintf(p.io.ErrOut, "\r\033[K%s %s: %s", spinnerFrames[i%len(spinnerFrames)], p.label, p.text)
			p.mu.Unlock()
		}
	}
}

// Update shows new state.
func (p *progress) Update(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if text == p.text {
		return
	}
	p.text = text
	if !p.tty {
		fmt.Fprintf(p.io.ErrOut, "%s: %s\n", p.label, text)
	}
}

// Println prints a line above the status line.
func (p *progress) Println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.io.ErrOut, "\r\033[K")
	}
	fmt.Fprintln(p.io.ErrOut, line)
}

// Stop clears the status line.
func (p *progress) Stop() {
	if p.tty {
		close(p.stop)
		p.done.Wait()
	}
}
