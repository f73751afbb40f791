"""stats/ is a pure library: importing it pulls in no web, database or dataframe stack."""

import json
import subprocess
import sys

FORBIDDEN = ["sqlalchemy", "fastapi", "ibis", "duckdb", "pandas", "pydantic", "typer"]


def test_importing_stats_loads_only_numpy_and_scipy():
    code = "import json, sys, clarion.stats; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert "numpy" in loaded and "scipy" in loaded
    assert loaded.isdisjoint(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
