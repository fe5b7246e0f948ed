// Package table prints rows the way nb's users expect: on a terminal, an
// aligned table with a header (through tablewriter v1, kept behind this
// package); when piped, tab-separated rows without a header and without
// truncation, for cut/awk.
package table

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Printer collects rows and writes them on Render.
type Printer struct {
	w      io.Writer
	tty    bool
	header []string
	rows   [][]string
}

// New returns a printer for w; tty says whether w is a terminal.
func New(w io.Writer, tty bool, header ...string) *Printer {
	return &Printer{w: w, tty: tty, header: header}
}

// Row adds a row; missing cells are empty.
func (p *Printer) Row(cells ...string) {
	row := make([]string, len(p.header))
	copy(row, cells)
	p.rows = append(p.rows, row)
}

// Len is the number of rows added.
func (p *Printer) Len() int { return len(p.rows) }

// Render writes the table.
func (p *Printer) Render() error {
	if !p.tty {
		for _, r := range p.rows {
			for i := range r {
				r[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(r[i])
			}
			if _, err := fmt.Fprintln(p.w, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	t := tablewriter.NewTable(p.w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "   ", Overwrite: true}),
	)
	t.Header(toAny(p.header)...)
	for _, r := range p.rows {
		if err := t.Append(toAny(r)...); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	return t.Render()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
