"""Test-then-send: after the test share's wait, send the winner to the rest, or the fallback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from clarion.experiments.contracts import Decision, ExperimentResults
from clarion.experiments.decisions import decide as decide_results
from clarion.experiments.explain import variant_label


@dataclass(frozen=True)
class SendDecision:
    """What the sender does with the rest of the audience now."""

    action: Literal["wait", "send_winner", "send_fallback"]
    variant: str | None  # what to send to the rest; None while waiting
    reason: str
    decision: Decision | None  # the experiment decision behind it (None while waiting)


def decide(
    results: ExperimentResults,
    *,
    fallback: str,
    test_sent_at: datetime,
    wait: timedelta,
    now: datetime,
) -> SendDecision:
    """Whether the rest of the audience gets the winner, the fallback, or nothing yet.

    Before ``test_sent_at + wait`` the answer is to wait. After it, the winner is sent only
    when the decision rule names one; an inconclusive test, a breached guardrail or a
    sample-ratio mismatch sends the configured ``fallback`` instead.
    """
    ready_at = test_sent_at + wait
    if now < ready_at:
        return SendDecision(
            "wait",
            None,
            f"the test share is still being measured until {ready_at:%Y-%m-%d %H:%M} UTC",
            None,
        )
    decision = decide_results(results)
    if decision.outcome == "winner" and decision.winner is not None:
        return SendDecision("send_winner", decision.winner, decision.explanation, decision)
    reason = f"{decision.explanation} Sending the fallback {variant_label(fallback)} to the rest."
    return SendDecision("send_fallback", fallback, reason, decision)
