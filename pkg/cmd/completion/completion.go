// Package completion implements `nb completion SHELL`: the shell scripts
// cobra generates from the command tree. Each script asks nb itself
// (`nb __complete ...`) for the candidates, so store, class and claim
// names complete from the live target.
package completion

import (
	"io"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/nbctl/nb/pkg/cmdutil"
	"github.com/nbctl/nb/pkg/exitcode"
)

// Shells nb writes completion scripts for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

// NewCmdCompletion returns `nb completion`.
func NewCmdCompletion(f *cmdutil.Factory) *cobra.Command {
	var noDescriptions bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for bash, zsh, fish or PowerShell",
		Long: heredoc.Doc(`
			Print the completion script for a shell. Besides commands and flags, it completes
			the names of live stores, classes and claims (--backingstores, --bucketclass, NAME
			arguments), asking the current target for them.

			Bash (needs the bash-completion package):
			    # this shell only
			    source <(nb completion bash)
			    # every new shell, Linux
			    nb completion bash | sudo tee /etc/bash_completion.d/nb > /dev/null
			    # every new shell, macOS with Homebrew
			    nb completion bash > $(brew --prefix)/etc/bash_completion.d/nb

			Zsh:
			    # enable completion once, if it is not already
			    echo "autoload -U compinit; compinit" >> ~/.zshrc
			    # every new shell
			    nb completion zsh > "${fpath[1]}/_nb"
			    # or, with Oh My Zsh
			    mkdir -p ~/.oh-my-zsh/completions && nb completion zsh > ~/.oh-my-zsh/completions/_nb

			Fish:
			    nb completion fish > ~/.config/fish/completions/nb.fish

			PowerShell:
			    # this session
			    nb completion powershell | Out-String | Invoke-Expression
			    # every session: add that line to your profile ($PROFILE)

			As a kubectl plugin (kubectl nb, installed with krew), kubectl 1.26 and later complete
			plugin commands through an executable named kubectl_complete-nb on the PATH:
			    printf '#!/bin/sh\nexec nb __complete "$@"\n' > ~/bin/kubectl_complete-nb
			    chmod +x ~/bin/kubectl_complete-nb

			The release archives carry the four scripts in completions/.`),
		Args:                  cobra.ExactArgs(1),
		ValidArgs:             Shells,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return Write(cmd.Root(), args[0], !noDescriptions, f.IOStreams.Out)
		},
	}
	cmd.Flags().BoolVar(&noDescriptions, "no-descriptions", false, "leave out the descriptions of completions")
	return cmd
}

// Write prints root's completion script for shell.
func Write(root *cobra.Command, shell string, descriptions bool, out io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(out, descriptions)
	case "zsh":
		if descriptions {
			return root.GenZshCompletion(out)
		}
		return root.GenZshCompletionNoDesc(out)
	case "fish":
		return root.GenFishCompletion(out, descriptions)
	case "powershell":
		if descriptions {
			return root.GenPowerShellCompletionWithDesc(out)
		}
		return root.GenPowerShellCompletion(out)
	}
	return exitcode.Usagef("SHELL", "%q is not a shell nb writes completions for: use bash, zsh, fish or powershell", shell)
}
