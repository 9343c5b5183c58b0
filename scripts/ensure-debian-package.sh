#!/usr/bin/env bash
# Usage: ensure-debian-package.sh <command> <package>
# The tests need real programs (redis-server standing in for ElastiCache, chromium for the
# storefront browser test): install Debian's package when the command is absent.
set -euo pipefail
command_name="$1"
package="$2"
if command -v "$command_name" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "$command_name is missing and this user cannot install it; install Debian's $package package" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "$package" >/dev/null 2>&1 || {
  $SUDO apt-get update >/dev/null
  $SUDO apt-get install -y --no-install-recommends "$package" >/dev/null
}
command -v "$command_name" >/dev/null
echo "installed $package: $("$command_name" --version 2>/dev/null | head -1)"
