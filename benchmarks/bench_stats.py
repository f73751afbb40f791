"""1,000 metric analyses (frequentist + Bayesian + sequential): Clarion's stats/ vs gbstats.

gbstats (GrowthBook's engine) pins numpy<2 and pandas<2, so it runs in its own environment
(.venv-gbstats, built by scripts/ensure-gbstats.sh) in a subprocess that times its own loop;
the same sufficient statistics go through both and every number must agree to 1e-6.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import Record
from clarion.stats import (
    MeanStats,
    ProportionStats,
    always_valid_test,
    bayesian_normal_test,
    welch_t_test,
)

ROOT = Path(__file__).resolve().parents[1]
GBSTATS_PYTHON = ROOT / ".venv-gbstats" / "bin" / "python"
RUNNER = Path(__file__).resolve().parent / "_gbstats_runner.py"
ANALYSES = 1000
TOLERANCE = 1e-6
REPEATS = 5


def cases(count: int, seed: int = 20261123) -> list[list[object]]:
    """Half proportion metrics, half revenue-like mean metrics, with realistic sizes."""
    rng = np.random.default_rng(seed)
    out: list[list[object]] = []
    for i in range(count):
        n_a, n_b = (int(x) for x in rng.integers(200, 50_000, 2))
        if i % 2 == 0:
            p = rng.uniform(0.01, 0.4)
            s_a = int(rng.binomial(n_a, p))
            s_b = int(rng.binomial(n_b, p * rng.uniform(0.9, 1.15)))
            out.append(["proportion", n_a, s_a, s_a, n_b, s_b, s_b])
        else:
            mu, sd = rng.uniform(5, 50), rng.uniform(5, 80)
            rows = []
            for n, lift in ((n_a, 1.0), (n_b, rng.uniform(0.9, 1.15))):
                mean = mu * lift
                total = mean * n + rng.normal(0, sd * np.sqrt(n))
                squares = (sd**2) * (n - 1) + total**2 / n
                rows += [n, float(total), float(squares)]
            out.append(["mean", *rows])
    return out


def _ours(batch: list[list[object]]) -> np.ndarray:
    kinds = np.array([c[0] for c in batch])
    num = np.array([c[1:] for c in batch], dtype=float)
    prop = kinds == "proportion"
    blocks = []
    for mask, make in ((prop, "p"), (~prop, "m")):
        x = num[mask]
        if make == "p":
            a: MeanStats | ProportionStats = ProportionStats(x[:, 0], x[:, 1])
            b: MeanStats | ProportionStats = ProportionStats(x[:, 3], x[:, 4])
        else:
            a, b = MeanStats(x[:, 0], x[:, 1], x[:, 2]), MeanStats(x[:, 3], x[:, 4], x[:, 5])
        t, y, s = welch_t_test(a, b), bayesian_normal_test(a, b), always_valid_test(a, b)
        blocks.append(
            np.column_stack(
                [
                    t.estimate,
                    t.ci_lower,
                    t.ci_upper,
                    t.p_value,
                    y.expected,
                    y.ci_lower,
                    y.ci_upper,
                    y.chance_to_win,
                    y.risk_control,
                    y.risk_treatment,
                    s.estimate,
                    s.ci_lower,
                    s.ci_upper,
                    s.p_value,
                ]
            )
        )
    out = np.empty((len(batch), blocks[0].shape[1]))
    out[prop], out[~prop] = blocks[0], blocks[1]
    return out


def ensure_gbstats() -> bool:
    """Build .venv-gbstats if missing; False when it cannot be built here."""
    script = ROOT / "scripts" / "ensure-gbstats.sh"
    done = subprocess.run(["bash", str(script)], check=False, capture_output=True, text=True)
    return done.returncode == 0 and GBSTATS_PYTHON.exists()


def _gbstats(batch: list[list[object]]) -> tuple[np.ndarray, float]:
    done = subprocess.run(
        [str(GBSTATS_PYTHON), str(RUNNER)],
        input=json.dumps({"cases": batch}),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    answer = json.loads(done.stdout)
    return np.array(answer["rows"], dtype=float), float(answer["seconds"])


def run(quick: bool) -> list[Record]:
    """Time both engines on the same 1,000 analyses and compare every number."""
    batch = cases(ANALYSES)
    ours_seconds = min(_timed(batch) for _ in range(REPEATS))
    records = [Record("stats", "1,000 analyses (t + Bayes + sequential)", ours_seconds * 1e3, "ms")]
    # The quick run only uses gbstats when its environment already exists: building it
    # downloads numpy, pandas and scipy, which is no smoke test's business.
    available = GBSTATS_PYTHON.exists() if quick else ensure_gbstats()
    if not available:
        print("gbstats environment missing: run scripts/ensure-gbstats.sh for the comparison")
        return records
    theirs, gb_seconds = min(
        (_gbstats(batch) for _ in range(1 if quick else 3)), key=lambda r: r[1]
    )
    ours = _ours(batch)
    both = np.isfinite(ours) & np.isfinite(theirs)
    worst = float(np.max(np.abs(ours[both] - theirs[both]))) if both.any() else 0.0
    same_gaps = bool(np.array_equal(np.isfinite(ours), np.isfinite(theirs)))
    speedup = gb_seconds / ours_seconds
    print(
        f"stats/ {ours_seconds * 1e3:.1f} ms vs gbstats {gb_seconds * 1e3:.1f} ms "
        f"({speedup:.0f}× faster); largest difference {worst:.2e}"
    )
    return [
        Record(
            "stats",
            "1,000 analyses (t + Bayes + sequential)",
            ours_seconds * 1e3,
            "ms",
            reference="gbstats 0.8.0, same inputs",
            ratio=speedup,
            target="≥ 10× faster",
            met=speedup >= 10,
        ),
        Record(
            "stats",
            "largest |difference| from gbstats",
            worst,
            "abs",
            target=f"≤ {TOLERANCE:g}",
            met=worst <= TOLERANCE and same_gaps,
        ),
    ]


def _timed(batch: list[list[object]]) -> float:
    started = time.perf_counter()
    _ours(batch)
    return time.perf_counter() - started
