#!/usr/bin/env bash
# Make sure a Chromium exists (/usr/bin/chromium, or chromium on PATH) for the real-browser snippet test
# (tests/tracking/test_snippet_browser.py drives it with Playwright; no browser is downloaded).
# Installs Debian's chromium when missing and we are root; otherwise fails loudly.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ] || CHROMIUM=$(command -v chromium); then
  echo "Chromium: $CHROMIUM"
  exit 0
fi
CHROMIUM=/usr/bin/chromium
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium missing: installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [ -x "$CHROMIUM" ] || { echo "chromium installed but $CHROMIUM not found" >&2; exit 1; }
  echo "Chromium: $CHROMIUM"
  exit 0
fi
echo "Chromium is missing at $CHROMIUM and cannot be installed here." >&2
echo "Install it (e.g. 'sudo apt-get install chromium') and run 'make test' again," >&2
echo "or set CLARION_SKIP_BROWSER=1 to skip the browser test locally (refused in CI)." >&2
exit 1
