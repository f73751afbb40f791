"""Process-wide settings for servers: what is loaded at start, not in the first request."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from clarion.core.runtime import load_lazy_imports
before = "pandas" in sys.modules
load_lazy_imports()
print(before, "pandas" in sys.modules)
"""


def test_what_pyarrow_loads_on_first_use_is_loaded_at_start() -> None:
    # pyarrow imports pandas on its first conversion of Python objects (~225 ms): a server
    # pays that at start, not in a request or in the collector's flush.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False", "True"]
