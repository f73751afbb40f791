#!/usr/bin/env bash
# Load generators the benchmarks use (wrk), installed from Debian's packages when missing.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "wrk missing: installing Debian's wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  exit 0
fi
echo "wrk is missing and cannot be installed here; install it (apt-get install wrk)." >&2
exit 1
