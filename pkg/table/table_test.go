package table

import (
	"bytes"
	"strings"
	"testing"
)

func TestTerminalTableHasHeaderAndAlignment(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, true, "NAME", "PHASE")
	p.Row("aws1", "Ready")
	p.Row("a-much-longer-name", "Rejected")
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("got %q", b.String())
	}
	col := strings.Index(lines[0], "PHASE")
	if col <= 0 || strings.Index(lines[1], "Ready") != col || strings.Index(lines[2], "Rejected") != col {
		t.Errorf("columns not aligned:\n%s", b.String())
	}
}

func TestPipedRowsAreTabSeparatedWithoutHeader(t *testing.T) {
	var b bytes.Buffer
	p := New(&b, false, "NAME", "MESSAGE")
	long := strings.Repeat("x", 300)
	p.Row("aws1", long+"\tand\nmore")
	if err := p.Render(); err != nil {
		t.Fatal(err)
	}
	if b.String() != "aws1\t"+long+" and more\n" {
		t.Errorf("got %q", b.String())
	}
}
