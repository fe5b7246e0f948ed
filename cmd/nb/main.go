// Command nb manages NooBaa multi-cloud object federation.
package main

import (
	"os"

	"github.com/nbctl/nb/pkg/nbcmd"
)

func main() { os.Exit(nbcmd.Main()) }
