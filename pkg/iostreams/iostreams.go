// Package iostreams carries nb's standard streams with what is known about
// them: whether each is a terminal and whether colour is wanted. Commands
// write data to Out and progress, hints and warnings to ErrOut.
package iostreams

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	colorEnabled          bool
	inFd                  int

	// readPassword reads a line without echo from the terminal on fd.
	readPassword func(fd int) ([]byte, error)
}

// System returns the process's own streams.
func System() *IOStreams {
	s := &IOStreams{
		In:           os.Stdin,
		Out:          os.Stdout,
		ErrOut:       os.Stderr,
		inTTY:        isTerminal(os.Stdin),
		outTTY:       isTerminal(os.Stdout),
		errTTY:       isTerminal(os.Stderr),
		inFd:         int(os.Stdin.Fd()),
		readPassword: term.ReadPassword,
	}
	s.SetColorAuto(os.Getenv)
	return s
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Test returns streams backed by buffers: stdin, stdout and stderr.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdinTTY reports whether stdin is a terminal (prompts are allowed).
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetStdinTTY overrides terminal detection of stdin (tests).
func (s *IOStreams) SetStdinTTY(v bool) { s.inTTY = v }

// SetStdoutTTY overrides terminal detection of stdout (tests).
func (s *IOStreams) SetStdoutTTY(v bool) { s.outTTY = v }

// SetStderrTTY overrides terminal detection of stderr (tests).
func (s *IOStreams) SetStderrTTY(v bool) { s.errTTY = v }

// SetPasswordReader replaces the no-echo terminal reader (tests).
func (s *IOStreams) SetPasswordReader(f func(fd int) ([]byte, error)) { s.readPassword = f }

// ColorEnabled reports whether output may be coloured.
func (s *IOStreams) ColorEnabled() bool { return s.colorEnabled }

// SetColorAuto turns colour on when stdout is a terminal, NO_COLOR is
// unset or empty (no-color.org) and TERM is not "dumb".
func (s *IOStreams) SetColorAuto(getenv func(string) string) {
	s.colorEnabled = s.outTTY && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// SetColorEnabled forces colour on or off.
func (s *IOStreams) SetColorEnabled(v bool) { s.colorEnabled = v }

// Color returns a colour that is a no-op when colour is off. It never
// touches fatih/color's global switch.
func (s *IOStreams) Color(attrs ...color.Attribute) *color.Color {
	c := color.New(attrs...)
	if s.colorEnabled {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return c
}

// ErrNoTTY is returned by prompts when stdin is not a terminal.
var ErrNoTTY = errors.New("stdin is not a terminal")

// Prompt asks for one line on stderr and reads it from stdin; with hidden
// set, what is typed is not echoed. It refuses, with ErrNoTTY, when stdin
// is not a terminal, so that scripts never hang on a question.
func (s *IOStreams) Prompt(label string, hidden bool) (string, error) {
	if !s.inTTY {
		return "", ErrNoTTY
	}
	fmt.Fprintf(s.ErrOut, "%s: ", label)
	if hidden && s.readPassword != nil {
		b, err := s.readPassword(s.inFd)
		fmt.Fprintln(s.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", label, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(s.In).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("read %s: %w", label, err)
	}
	return strings.TrimSpace(line), nil
}
