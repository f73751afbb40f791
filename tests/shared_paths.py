"""Paths the tests share (a module of its own: nested conftests shadow `conftest`)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
