"""The experiment lifecycle: draft → running → stopped → rolled out, and nothing else."""

from __future__ import annotations

from enum import StrEnum

from clarion.core.errors import IllegalTransition


class ExperimentState(StrEnum):
    """Where an experiment is in its life."""

    DRAFT = "draft"
    RUNNING = "running"
    STOPPED = "stopped"
    ROLLED_OUT = "rolled_out"


S = ExperimentState

TRANSITIONS: dict[ExperimentState, frozenset[ExperimentState]] = {
    S.DRAFT: frozenset({S.RUNNING}),
    S.RUNNING: frozenset({S.STOPPED}),
    S.STOPPED: frozenset({S.ROLLED_OUT}),
    S.ROLLED_OUT: frozenset(),
}


def check_transition(ref: str, current: ExperimentState, target: ExperimentState) -> None:
    """Raise IllegalTransition unless the table allows ``current`` → ``target``."""
    if target not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current])
        raise IllegalTransition("experiment", ref, current.value, target.value, allowed)
