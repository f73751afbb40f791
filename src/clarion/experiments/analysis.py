"""Sufficient statistics per arm → comparisons through stats/ under the stopping rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from clarion.core.metrics import Direction, metric
from clarion.experiments.contracts import Arm, Comparison, ExperimentResults, SrmCheck
from clarion.experiments.design import ExperimentDesign, ExperimentPlan
from clarion.experiments.outcomes import OUTCOME_METRICS, ExposureDay, VariantOutcome
from clarion.stats import (
    BayesianSettings,
    FrequentistSettings,
    GroupSequentialSettings,
    MeanStats,
    ProportionStats,
    SequentialSettings,
    adjust_p_values,
    always_valid_test,
    bayesian_normal_test,
    group_sequential_test,
    srm_test,
    welch_t_test,
)
from clarion.stats.settings import DEFAULT_SEQUENTIAL_TUNING

ABSOLUTE: Literal["absolute"] = "absolute"


@dataclass(frozen=True)
class _Pair:
    """A baseline group and a challenger group, each the summed arms it stands for."""

    factor: str | None
    baseline: str
    challenger: str
    a: VariantOutcome
    b: VariantOutcome


def _sum(label: str, parts: Sequence[VariantOutcome]) -> VariantOutcome:
    return VariantOutcome(
        label,
        sum(p.n for p in parts),
        sum(p.sum for p in parts),
        sum(p.sum_squares for p in parts),
    )


def _pairs(design: ExperimentDesign, by_variant: Mapping[str, VariantOutcome]) -> list[_Pair]:
    def get(v: str) -> VariantOutcome:
        return by_variant.get(v, VariantOutcome(v, 0, 0.0, 0.0))

    if not design.factors:
        control = get(design.control)
        return [
            _Pair(None, design.control, v.key, control, get(v.key)) for v in design.variants[1:]
        ]
    pairs = []
    for factor in design.factors:
        groups = {
            level: _sum(
                f"{factor.key}={level}",
                [
                    get(v.key)
                    for v in design.variants
                    if design.levels_of(v.key)[factor.key] == level
                ],
            )
            for level in factor.levels
        }
        base = factor.levels[0]
        for level in factor.levels[1:]:
            pairs.append(
                _Pair(
                    factor.key,
                    groups[base].variant,
                    groups[level].variant,
                    groups[base],
                    groups[level],
                )
            )
    return pairs


def _stats(kind: str, parts: Sequence[VariantOutcome]) -> MeanStats | ProportionStats:
    n = np.array([p.n for p in parts], dtype=float)
    total = np.array([p.sum for p in parts], dtype=float)
    if kind == "proportion":
        return ProportionStats(n=n, sum=total)
    return MeanStats(n=n, sum=total, sum_squares=np.array([p.sum_squares for p in parts]))


def looks_from(days: Sequence[ExposureDay], planned: int) -> list[float]:
    """Information fractions of the daily looks so far (cumulative exposed / planned),
    strictly increasing and ending at most at 1: the input of the alpha-spending boundary.
    """
    looks: list[float] = []
    running = 0
    for day in days:
        running += day.contacts
        fraction = min(running / planned, 1.0)
        if fraction > 0 and (not looks or fraction > looks[-1]):
            looks.append(fraction)
    return looks


def _f(x: object) -> float:
    return float(x)  # type: ignore[arg-type]


def compare(
    design: ExperimentDesign,
    plan: ExperimentPlan,
    metric_name: str,
    outcomes: Sequence[VariantOutcome],
    looks: Sequence[float],
) -> list[Comparison]:
    """Every challenger against its baseline on one metric, all in one vectorised call."""
    kind = OUTCOME_METRICS[metric_name].kind
    better: Literal["higher", "lower"] = (
        "lower" if metric(metric_name).better == Direction.LOWER else "higher"
    )
    pairs = _pairs(design, {o.variant: o for o in outcomes})
    a, b = _stats(kind, [p.a for p in pairs]), _stats(kind, [p.b for p in pairs])
    m = len(pairs)
    fixed = welch_t_test(a, b, FrequentistSettings(alpha=design.alpha, difference=ABSOLUTE))
    bayes = bayesian_normal_test(a, b, BayesianSettings(alpha=design.alpha, difference=ABSOLUTE))
    p_adjusted: list[float | None]
    if plan.method == "alpha_spending" and looks:
        gs = group_sequential_test(
            a, b, list(looks), GroupSequentialSettings(alpha=design.alpha / m, difference=ABSOLUTE)
        )
        lower, upper, significant = gs.ci_lower, gs.ci_upper, gs.crossed
        p_adjusted = [None] * m
        errors = gs.error
    else:
        tuning = float(plan.sample_size or DEFAULT_SEQUENTIAL_TUNING)
        # Intervals at alpha / m hold simultaneously for all m comparisons (Bonferroni);
        # the decision itself uses the adjusted p-values, which are never less powerful.
        seq = always_valid_test(
            a,
            b,
            SequentialSettings(
                alpha=design.alpha / m, difference=ABSOLUTE, tuning_parameter=tuning
            ),
        )
        plain = always_valid_test(
            a,
            b,
            SequentialSettings(alpha=design.alpha, difference=ABSOLUTE, tuning_parameter=tuning),
        )
        adjusted = adjust_p_values(plain.p_value, design.correction)
        lower, upper = seq.ci_lower, seq.ci_upper
        significant = plain.ok & (adjusted < design.alpha)
        p_adjusted = [None if np.isnan(p) else float(p) for p in adjusted]
        errors = plain.error
    chance = bayes.chance_to_win if better == "higher" else 1.0 - bayes.chance_to_win
    risk = bayes.risk_treatment if better == "higher" else bayes.risk_control
    out = []
    for i, pair in enumerate(pairs):
        mean_a = pair.a.sum / pair.a.n if pair.a.n else float("nan")
        mean_b = pair.b.sum / pair.b.n if pair.b.n else float("nan")
        est = mean_b - mean_a
        out.append(
            Comparison(
                metric=metric_name,
                factor=pair.factor,
                baseline=pair.baseline,
                challenger=pair.challenger,
                n_baseline=pair.a.n,
                n_challenger=pair.b.n,
                mean_baseline=mean_a,
                mean_challenger=mean_b,
                estimate=est,
                relative=est / mean_a if mean_a else None,
                ci_lower=_f(lower[i]),
                ci_upper=_f(upper[i]),
                p_value=p_adjusted[i],
                significant=bool(significant[i]),
                better=better,
                fixed_p_value=_f(fixed.p_value[i]),
                fixed_ci_lower=_f(fixed.ci_lower[i]),
                fixed_ci_upper=_f(fixed.ci_upper[i]),
                chance_to_beat=_f(chance[i]),
                risk=_f(risk[i]),
                error=str(errors[i]) or None,
            )
        )
    return out


def analyse(
    design: ExperimentDesign,
    plan: ExperimentPlan,
    outcomes: Mapping[str, Sequence[VariantOutcome]],
    days: Sequence[ExposureDay],
    at: datetime,
) -> ExperimentResults:
    """Results of every metric at ``at``: the SRM check, the primary metric, the guardrails."""
    exposed_by = {o.variant: o.n for o in outcomes[design.primary_metric]}
    weights = design.weights()
    counts = [exposed_by.get(v, 0) for v in weights]
    srm = srm_test(counts, list(weights.values()))
    expected = srm.expected.tolist()
    exposed = sum(counts)
    looks: list[float] = []
    fraction = None
    if plan.sample_size:
        looks = looks_from(days, plan.sample_size)
        fraction = min(exposed / plan.sample_size, 1.0)
    primary = compare(design, plan, design.primary_metric, outcomes[design.primary_metric], looks)
    guardrails = [
        c for g in design.guardrail_metrics for c in compare(design, plan, g, outcomes[g], looks)
    ]
    inputs: dict[str, object] = {
        "method": plan.method,
        "alpha": design.alpha,
        "correction": design.correction,
        "planned_sample_size": plan.sample_size,
        "looks": looks,
        "weights": weights,
        "statistics": {
            name: [
                {"variant": o.variant, "n": o.n, "sum": o.sum, "sum_squares": o.sum_squares}
                for o in rows
            ]
            for name, rows in outcomes.items()
        },
    }
    return ExperimentResults(
        experiment_key=design.key,
        at=at,
        method=plan.method,
        alpha=design.alpha,
        correction=design.correction,
        planned_sample_size=plan.sample_size,
        exposed=exposed,
        information_fraction=fraction,
        looks=tuple(looks),
        arms=tuple(
            Arm(v, w, c, float(e))
            for (v, w), c, e in zip(weights.items(), counts, expected, strict=True)
        ),
        srm=SrmCheck(float(srm.p_value), bool(srm.mismatch), srm.threshold),
        primary=tuple(primary),
        guardrails=tuple(guardrails),
        multivariate=bool(design.factors),
        inputs=inputs,
    )
