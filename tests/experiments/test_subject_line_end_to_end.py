"""A subject-line A/B test end to end on the simulated market, through the real sender."""

from __future__ import annotations

from pathlib import Path

from clarion.demo.run import DemoOptions, run_demo


def test_a_clearly_better_subject_line_is_declared_the_winner(tmp_path: Path) -> None:
    # The market's people open subject b far more often (log-odds +1.2): 3,000 people, one
    # teaser, read through the always-valid decision rule at the end of five days.
    result = run_demo(
        DemoOptions(out=tmp_path / "run", contacts=3000, days=5, subject_lift={"b": 1.2})
    )
    try:
        truth = result.truth
        assert truth["true_best_variant"] == "b"
        assert truth["decision"] == "winner", truth["decision_text"]
        assert truth["decision_winner"] == "b"
        experiments = result.report["findings"]
        assert any(f["kind"] == "experiment" for f in experiments)
    finally:
        assert result.sandbox is not None
        result.sandbox.instance.close()
