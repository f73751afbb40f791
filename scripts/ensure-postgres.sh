#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl, postgres) exist for the test harness.
# Installs Debian's postgresql when missing and we are root; otherwise fails loudly.
set -euo pipefail
find_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"; return 0
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}
if bindir=$(find_bindir); then
  echo "PostgreSQL server binaries: $bindir"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries missing: installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bindir=$(find_bindir) || { echo "postgresql installed but initdb not found" >&2; exit 1; }
  echo "PostgreSQL server binaries: $bindir"
  exit 0
fi
echo "PostgreSQL server binaries (initdb, pg_ctl) are missing and cannot be installed here." >&2
echo "Install PostgreSQL (e.g. 'apt-get install postgresql') and run 'make test' again." >&2
exit 1
