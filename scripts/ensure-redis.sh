#!/usr/bin/env bash
# The tests need a real redis-server (the local stand-in for ElastiCache): install Debian's when absent.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "redis-server is missing and this user cannot install it; install Debian's redis-server package" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends redis-server >/dev/null 2>&1 || {
  $SUDO apt-get update >/dev/null
  $SUDO apt-get install -y --no-install-recommends redis-server >/dev/null
}
# The package may start a system instance; the tests start their own on free ports.
command -v redis-server >/dev/null
echo "installed $(redis-server --version | cut -d' ' -f1-3)"
