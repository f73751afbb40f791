"""The lifecycle: one transition table decides every move."""

from __future__ import annotations

import pytest

from clarion.campaigns.lifecycle import TRANSITIONS, CampaignState, check_transition
from clarion.core.errors import IllegalTransition

S = CampaignState

ALLOWED = {
    (S.DRAFT, S.SCHEDULED),
    (S.DRAFT, S.CANCELLED),
    (S.SCHEDULED, S.DRAFT),
    (S.SCHEDULED, S.RUNNING),
    (S.SCHEDULED, S.CANCELLED),
    (S.RUNNING, S.PAUSED),
    (S.PAUSED, S.RUNNING),
    (S.RUNNING, S.COMPLETED),
    (S.PAUSED, S.COMPLETED),
    (S.RUNNING, S.CANCELLED),
    (S.PAUSED, S.CANCELLED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_only_the_listed_moves_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        check_transition("c", current, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_transition("c", current, target)
        assert caught.value.details["allowed"] == sorted(s.value for s in TRANSITIONS[current])


def test_completed_and_cancelled_are_final() -> None:
    with pytest.raises(IllegalTransition, match="none: it is final"):
        check_transition("spring", S.COMPLETED, S.RUNNING)
