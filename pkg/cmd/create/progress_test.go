package create

import (
	"strings"
	"testing"
	"time"

	"github.com/nbctl/nb/pkg/iostreams"
)

func TestProgressOffTerminalPrintsOneLinePerChange(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	p := startProgress(ios, "backingstore.noobaa.io/pv1")
	p.Update("Creating")
	p.Update("Creating")
	p.Println("warning: something")
	p.Update("Ready [OPTIMAL]")
	p.Stop()
	want := "backingstore.noobaa.io/pv1: Creating\nwarning: something\nbackingstore.noobaa.io/pv1: Ready [OPTIMAL]\n"
	if errOut.String() != want {
		t.Errorf("got %q, want %q", errOut.String(), want)
	}
}

func TestProgressOnTerminalRewritesOneLine(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetStderrTTY(true)
	ticks := make(chan time.Time)
	p := startProgressTicking(ios, "obc/c1", ticks)
	p.Update("Pending")
	ticks <- time.Now() // the spinner draws the line once
	p.Stop()
	out := errOut.String()
	if !strings.Contains(out, "\r\033[K") || !strings.Contains(out, "obc/c1: Pending") || strings.Contains(out, "\n") {
		t.Errorf("got %q", out)
	}
	if !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("the status line must be cleared at the end: %q", out)
	}
}
