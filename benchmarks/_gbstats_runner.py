"""Run gbstats on cases read from stdin, inside .venv-gbstats; print results and time as JSON.

Standalone on purpose: it runs in gbstats' own environment (numpy<2, pandas<2), where
Clarion is not installed. Each case is [kind, n_a, sum_a, sum_squares_a, n_b, sum_b,
sum_squares_b] with kind "mean" or "proportion".
"""

import json
import sys
import time

from gbstats.bayesian.tests import EffectBayesianABTest
from gbstats.frequentist.tests import SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic


def _stat(kind, n, total, squares):
    if kind == "proportion":
        return ProportionStatistic(n=n, sum=total)
    return SampleMeanStatistic(n=n, sum=total, sum_squares=squares)


def main():
    cases = json.load(sys.stdin)["cases"]
    pairs = [(_stat(c[0], *c[1:4]), _stat(c[0], *c[4:7])) for c in cases]
    started = time.perf_counter()
    rows = []
    for a, b in pairs:
        t = TwoSidedTTest(a, b).compute_result()
        y = EffectBayesianABTest(a, b).compute_result()
        s = SequentialTwoSidedTTest(a, b).compute_result()
        rows.append(
            [
                t.expected,
                t.ci[0],
                t.ci[1],
                t.p_value,
                y.expected,
                y.ci[0],
                y.ci[1],
                y.chance_to_win,
                y.risk[0],
                y.risk[1],
                s.expected,
                s.ci[0],
                s.ci[1],
                s.p_value,
            ]
        )
    seconds = time.perf_counter() - started
    json.dump({"seconds": seconds, "rows": rows}, sys.stdout)


main()
