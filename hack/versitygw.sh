#!/usr/bin/env bash
# Installs versitygw (a real S3 server, Apache-2.0) into nb's tool cache and
# prints the binary's path: tests read it from NB_VERSITYGW.
exec "$(dirname "$0")/go-tool.sh" versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0
