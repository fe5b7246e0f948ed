// Package gendocs writes what is generated from nb's command tree and
// committed: the markdown reference (docs/reference), the man pages
// (docs/man) and the shell completion scripts (completions/). `make docs`
// and `make completions` run it; a test regenerates everything into a
// temporary folder and fails when the committed files differ.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/nbctl/nb/pkg/cmd/completion"
	"github.com/nbctl/nb/pkg/cmd/root"
	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/iostreams"
)

// Root returns nb's command tree as documented: no environment, no
// terminal, no generation date.
func Root() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Getenv: func(string) string { return "" }, ReadFile: os.ReadFile}
	cmd := root.NewCmdRoot(f)
	cmd.DisableAutoGenTag = true
	return cmd
}

// Reference writes one markdown page per command into dir.
func Reference(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return doc.GenMarkdownTree(Root(), dir)
}

// thDate matches the date field of a man page's .TH line.
var thDate = regexp.MustCompile(`(?m)^(\.TH "[^"]*" "[^"]*" )"[^"]*"`)

// Man writes the section 1 man pages into dir. The .TH date is left empty
// so that regenerating the pages changes nothing unless the commands did.
func Man(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "NB", Section: "1", Source: "nb", Manual: "nb manual"}
	if err := doc.GenManTree(Root(), header, dir); err != nil {
		return err
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, thDate.ReplaceAll(b, []byte(`$1""`)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CompletionFile is the file name of shell's script in completions/.
func CompletionFile(shell string) string {
	switch shell {
	case "zsh":
		return "_nb"
	case "fish":
		return "nb.fish"
	case "powershell":
		return "nb.ps1"
	}
	return "nb." + shell
}

// Completions writes the four shell completion scripts into dir.
func Completions(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, sh := range completion.Shells {
		var buf bytes.Buffer
		if err := completion.Write(Root(), sh, true, &buf); err != nil {
			return fmt.Errorf("%s: %w", sh, err)
		}
		if err := os.WriteFile(filepath.Join(dir, CompletionFile(sh)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Clean removes the generated files of dir matching the patterns, so that
// a page of a removed command does not linger.
func Clean(dir string, patterns ...string) error {
	for _, pat := range patterns {
		old, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return err
		}
		for _, p := range old {
			if !strings.HasPrefix(filepath.Base(p), ".") {
				if err := os.Remove(p); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
