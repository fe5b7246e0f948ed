#!/usr/bin/env bash
# Installs the pinned goreleaser into nb's tool cache and prints its path.
# v2.14.0: v2.18 needs Go 1.27, and v2.15-v2.17 depend on go-msix, which the
# module proxy refuses (403).
exec "$(dirname "$0")/go-tool.sh" goreleaser github.com/goreleaser/goreleaser/v2 v2.14.0
