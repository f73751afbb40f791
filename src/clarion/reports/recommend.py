"""Recommendations and learnings derived from findings and verdicts by fixed rules."""

from __future__ import annotations

from collections.abc import Sequence

from clarion.reports.contracts import Finding, HypothesisResult, Learning, Recommendation


def recommendations(findings: Sequence[Finding]) -> list[Recommendation]:
    """One recommendation per finding that calls for an action, each citing that finding.

    Rules: a distinguishable best segment or persona → focus the next campaign on it; an
    experiment with a winner → retire the other variants; a funnel bottleneck → retarget
    those who stopped there; a total off pace → fix pacing; a bounce spike → check the list
    of that day; a budget move → rebalance toward where it paid.
    """
    out: list[Recommendation] = []
    for f in findings:
        e = f.evidence
        if f.kind == "best" and e["distinguishable"] and e["dimension"] in ("segment", "persona"):
            out.append(
                Recommendation(
                    f"focus-{e['dimension']}",
                    "focus",
                    f"Focus the next campaign on {e['dimension']} {e['group']}: its {e['metric']}"
                    " is better than every other's, beyond the uncertainty.",
                    (f.id,),
                )
            )
        elif f.kind == "best" and e["distinguishable"] and e["dimension"] == "channel":
            out.append(
                Recommendation(
                    "rebalance-channel",
                    "rebalance",
                    f"Move budget toward channel {e['group']}: its {e['metric']} is better"
                    " than every other channel's, beyond the uncertainty.",
                    (f.id,),
                )
            )
        elif f.kind == "experiment" and e["outcome"] == "winner" and e["winner"]:
            losers = [v for v in e["variants"] if v != e["winner"]]
            out.append(
                Recommendation(
                    f"retire-{e['experiment']}",
                    "retire_variant",
                    f"Roll out variant {e['winner']} of {e['experiment']} and retire "
                    + ", ".join(losers)
                    + ".",
                    (f.id,),
                )
            )
        elif f.kind == "bottleneck":
            out.append(
                Recommendation(
                    "retarget-bottleneck",
                    "retarget",
                    f"Retarget the {e['dropped']} people who reached {e['from_step']} but not"
                    f" {e['to_step']}.",
                    (f.id,),
                )
            )
        elif f.kind == "pacing":
            out.append(
                Recommendation(
                    f"pace-{e['metric']}",
                    "fix_pacing",
                    f"Re-plan {e['metric']}: it ran at {e['pacing']:.0%} of the pace the target"
                    " needed."
                    if e["pacing"] is not None
                    else f"Re-plan {e['metric']}: it ran before the campaign's first day.",
                    (f.id,),
                )
            )
        elif f.kind == "bounce_spike":
            out.append(
                Recommendation(
                    f"check-{f.id}",
                    "check_list",
                    f"Check the contacts mailed on {e['day']} for stale or bought addresses"
                    " before mailing them again.",
                    (f.id,),
                )
            )
        elif f.kind == "budget_move":
            out.append(Recommendation(f"rebalance-{f.id}", "rebalance", f.detail, (f.id,)))
    return out


def learnings(
    findings: Sequence[Finding], hypotheses: Sequence[HypothesisResult]
) -> list[Learning]:
    """What the next plan should know: settled hypotheses, clear leaders, experiment winners."""
    out = []
    for h in hypotheses:
        if h.verdict in ("supported", "refuted") and h.ratio is not None:
            out.append(
                Learning(
                    f"hypothesis-{h.key}",
                    f"Hypothesis {h.verdict}: {h.statement} ({h.metric} ratio {h.ratio.value:.3g};"
                    f" {h.reason}).",
                    (f"hypothesis-{h.key}",),
                )
            )
    for f in findings:
        e = f.evidence
        if f.kind == "best" and e["distinguishable"]:
            out.append(
                Learning(
                    f.id,
                    f"{e['dimension'].capitalize()} {e['group']} led on {e['metric']}"
                    f" ({e['value']:.4g}, 95% interval {e['low']:.4g} to {e['high']:.4g}).",
                    (f.id,),
                )
            )
        elif f.kind == "experiment" and e["outcome"] == "winner":
            out.append(Learning(f.id, f"Experiment {e['experiment']}: {f.detail}", (f.id,)))
    return out
