// Package release holds test-only checks of the release files
// (hack/krew/nb.yaml, .goreleaser.yaml).
package release
