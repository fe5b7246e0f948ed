// Command gen regenerates nb's committed generated files:
//
//	go run ./hack/gen docs         # docs/reference/*.md and docs/man/*.1
//	go run ./hack/gen completions  # completions/{nb.bash,_nb,nb.fish,nb.ps1}
package main

import (
	"fmt"
	"os"

	"github.com/nbctl/nb/pkg/gendocs"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: gen docs|completions")
	}
	switch args[0] {
	case "docs":
		if err := gendocs.Clean("docs/reference", "*.md"); err != nil {
			return err
		}
		if err := gendocs.Clean("docs/man", "*.1"); err != nil {
			return err
		}
		if err := gendocs.Reference("docs/reference"); err != nil {
			return err
		}
		return gendocs.Man("docs/man")
	case "completions":
		return gendocs.Completions("completions")
	}
	return fmt.Errorf("unknown target %q: use docs or completions", args[0])
}
