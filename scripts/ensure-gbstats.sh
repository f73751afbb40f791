#!/usr/bin/env bash
# GrowthBook's gbstats in its own environment (.venv-gbstats): it pins numpy<2 and pandas<2,
# which Clarion's own environment does not. The stats benchmark runs it side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-gbstats
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import gbstats" >/dev/null 2>&1; then
  exit 0
fi
echo "creating $VENV with gbstats 0.8.0 (numpy<2, pandas<2)" >&2
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "gbstats==0.8.0" "numpy>=1.24,<2" "pandas>=1.5,<2" "scipy>=1.10,<1.14"
"$VENV/bin/python" -c "import gbstats"
