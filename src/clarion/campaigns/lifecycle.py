"""The campaign lifecycle: states and the one table of allowed transitions."""

from __future__ import annotations

from enum import StrEnum

from clarion.core.errors import IllegalTransition


class CampaignState(StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = CampaignState

TRANSITIONS: dict[CampaignState, frozenset[CampaignState]] = {
    S.DRAFT: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.DRAFT, S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.PAUSED, S.COMPLETED, S.CANCELLED}),
    S.PAUSED: frozenset({S.RUNNING, S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

# States in which the plan itself may still be changed by applying a new version.
EDITABLE: frozenset[CampaignState] = frozenset({S.DRAFT, S.SCHEDULED, S.RUNNING, S.PAUSED})


def allowed_from(state: CampaignState) -> list[str]:
    """The states ``state`` may move to, in a stable order."""
    return sorted(s.value for s in TRANSITIONS[state])


def check_transition(ref: str, current: CampaignState, target: CampaignState) -> None:
    """Raise IllegalTransition unless the table allows ``current`` → ``target``."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition("campaign", ref, current.value, target.value, allowed_from(current))
