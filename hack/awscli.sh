#!/usr/bin/env bash
# Makes sure the AWS CLI is installed for the S3 endpoint's client tests:
# Debian's awscli package, through apt-get (as root, or with sudo).
set -euo pipefail
command -v aws >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need the AWS CLI (aws): install it with your package manager" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "the tests need the AWS CLI: run apt-get install awscli as root" >&2
    exit 1
  fi
  sudo=sudo
fi
echo "installing the AWS CLI (Debian's awscli) for the S3 tests..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq awscli >/dev/null
