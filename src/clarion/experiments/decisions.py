"""The decision rule: winner, inconclusive, guardrail breached, or blocked by a bad split."""

from __future__ import annotations

from collections.abc import Sequence

from clarion.experiments.contracts import Comparison, Decision, ExperimentResults
from clarion.experiments.explain import (
    amount,
    describe,
    effect,
    interval,
    metric_label,
    progress,
    variant_label,
)


def _best(candidates: Sequence[Comparison]) -> Comparison:
    sign = 1.0 if candidates[0].better == "higher" else -1.0
    return max(candidates, key=lambda c: sign * c.estimate)


def _breaches(results: ExperimentResults, c: Comparison) -> list[Comparison]:
    return [
        g
        for g in results.guardrails
        if g.challenger == c.challenger and g.factor == c.factor and g.worsens
    ]


def _srm_sentence(results: ExperimentResults) -> str:
    seen = " / ".join(f"{a.exposed:,}" for a in results.arms)
    expected = " / ".join(f"{a.expected:,.0f}" for a in results.arms)
    return (
        f"No decision: sample-ratio mismatch. The arms got {seen} contacts where the weights "
        f"expect {expected} (p = {results.srm.p_value:.2g}); check assignment and exposure "
        "logging before trusting any result."
    )


def _winner_sentence(c: Comparison, confidence: float) -> str:
    return (
        f"{variant_label(c.challenger)} beats {variant_label(c.baseline)} on "
        f"{metric_label(c.metric)} by {effect(c, confidence)}."
    )


def _breach_sentence(c: Comparison, breaches: Sequence[Comparison], confidence: float) -> str:
    worse = "; ".join(
        f"{metric_label(g.metric)} {amount(g.metric, g.estimate)} ({interval(g, confidence)})"
        for g in breaches
    )
    return (
        f"Guardrail breached: {variant_label(c.challenger)} beats {variant_label(c.baseline)} "
        f"on {metric_label(c.metric)} by {effect(c, confidence)}, but worsens {worse}."
    )


def _inconclusive_sentence(results: ExperimentResults, confidence: float) -> str:
    primary = results.primary
    shown = "; ".join(
        f"{variant_label(c.challenger)} {effect(c, confidence)}" for c in primary if not c.error
    )
    base = variant_label(primary[0].baseline) if not results.multivariate else "the baseline"
    return (
        f"Inconclusive: nothing beats {base} on {metric_label(primary[0].metric)} yet"
        + (f" ({shown})" if shown else "")
        + f"; {progress(results)}."
    )


def _multivariate(results: ExperimentResults, confidence: float) -> Decision:
    details = tuple(describe(c, confidence) for c in results.primary + results.guardrails)
    chosen: dict[str, str] = {}
    wins, breached = [], []
    for factor in dict.fromkeys(c.factor for c in results.primary):
        comps = [c for c in results.primary if c.factor == factor]
        base_level = comps[0].baseline.split("=", 1)[1]
        good = [c for c in comps if c.improves and not _breaches(results, c)]
        breached += [c for c in comps if c.improves and _breaches(results, c)]
        if good:
            best = _best(good)
            wins.append(best)
            chosen[str(factor)] = best.challenger.split("=", 1)[1]
        else:
            chosen[str(factor)] = base_level
    if wins:
        combo = ".".join(f"{f}={level}" for f, level in chosen.items())
        text = " ".join(_winner_sentence(c, confidence) for c in wins)
        return Decision("winner", combo, f"{text} Best combination: {combo}.", details)
    if breached:
        c = breached[0]
        return Decision(
            "guardrail_breached",
            None,
            _breach_sentence(c, _breaches(results, c), confidence),
            details,
        )
    return Decision("inconclusive", None, _inconclusive_sentence(results, confidence), details)


def decide(results: ExperimentResults) -> Decision:
    """Apply the decision rule to results read at any time; only its outcomes are honest ones.

    A sample-ratio mismatch blocks everything. A challenger that significantly improves the
    primary metric (under the stopping rule, corrected for multiple comparisons) wins unless
    it significantly worsens a guardrail; when every challenger significantly loses, the
    control wins. Anything else is inconclusive.
    """
    confidence = 1.0 - results.alpha
    if results.srm.mismatch:
        return Decision("srm_blocked", None, _srm_sentence(results), ())
    if results.multivariate:
        return _multivariate(results, confidence)
    details = tuple(describe(c, confidence) for c in results.primary + results.guardrails)
    improving = [c for c in results.primary if c.improves]
    clean = [c for c in improving if not _breaches(results, c)]
    if clean:
        best = _best(clean)
        return Decision("winner", best.challenger, _winner_sentence(best, confidence), details)
    if improving:
        c = _best(improving)
        text = _breach_sentence(c, _breaches(results, c), confidence)
        return Decision("guardrail_breached", None, text, details)
    if results.primary and all(c.worsens for c in results.primary):
        control = results.primary[0].baseline
        losers = "; ".join(
            f"{variant_label(c.challenger)} {effect(c, confidence)}" for c in results.primary
        )
        text = (
            f"{variant_label(control)} (the control) beats every challenger on "
            f"{metric_label(results.primary[0].metric)}: {losers}."
        )
        return Decision("winner", control, text, details)
    return Decision("inconclusive", None, _inconclusive_sentence(results, confidence), details)
