"""Assignment: a pure function of experiment key and contact id that respects the weights."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from clarion.experiments.assignment import assign, exposure_rows, in_test_share
from clarion.stats import srm_test

CONTACTS = [f"contact-{i}" for i in range(20_000)]


def test_the_same_contact_always_gets_the_same_arm() -> None:
    weights = {"a": 1.0, "b": 1.0, "c": 1.0}
    first = [assign("exp-1", c, weights) for c in CONTACTS[:500]]
    again = [assign("exp-1", c, dict(weights)) for c in CONTACTS[:500]]
    assert first == again


def test_another_experiment_shuffles_contacts_independently() -> None:
    weights = {"a": 1.0, "b": 1.0}
    one = [assign("exp-1", c, weights) for c in CONTACTS[:2000]]
    two = [assign("exp-2", c, weights) for c in CONTACTS[:2000]]
    agree = sum(x == y for x, y in zip(one, two, strict=True)) / 2000
    assert 0.45 < agree < 0.55


@pytest.mark.parametrize("weights", [{"a": 1, "b": 1}, {"a": 3, "b": 1}, {"a": 1, "b": 2, "c": 7}])
def test_arms_fill_in_proportion_to_their_weights(weights: dict[str, float]) -> None:
    counts = Counter(assign("exp-w", c, weights) for c in CONTACTS)
    observed = [counts[v] for v in weights]
    assert not srm_test(observed, list(weights.values())).mismatch


def test_raising_a_weight_only_moves_contacts_at_the_boundary() -> None:
    before = {c: assign("exp-r", c, {"a": 1, "b": 1}) for c in CONTACTS[:5000]}
    after = {c: assign("exp-r", c, {"a": 3, "b": 2}) for c in CONTACTS[:5000]}
    moved = sum(before[c] != after[c] for c in before) / 5000
    assert moved == pytest.approx(0.1, abs=0.02)  # only the slice between 0.5 and 0.6


def test_the_test_share_is_independent_of_the_arm() -> None:
    weights = {"a": 1.0, "b": 1.0}
    tested = [c for c in CONTACTS if in_test_share("exp-t", c, 0.2)]
    assert len(tested) / len(CONTACTS) == pytest.approx(0.2, abs=0.01)
    counts = Counter(assign("exp-t", c, weights) for c in tested)
    assert not srm_test([counts["a"], counts["b"]], [1, 1]).mismatch


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        assign("exp", "c1", {"a": 1, "b": 0})


def test_an_exposure_is_an_event_with_the_variant_and_the_experiment_key() -> None:
    at = datetime(2027, 2, 1, 9, tzinfo=UTC)
    (row,) = exposure_rows(
        workspace_id="ws_1",
        experiment_key="subject-test",
        campaign_id="cmp_1",
        channel="email",
        assignments=[("c1", "b")],
        at=at,
    )
    assert row["type"] == "experiment_exposure"
    assert row["variant"] == "b"
    assert row["properties"] == '{"experiment": "subject-test"}'
    again = exposure_rows(
        workspace_id="ws_1",
        experiment_key="subject-test",
        campaign_id="cmp_1",
        channel="email",
        assignments=[("c1", "b")],
        at=at,
    )
    assert again[0]["event_id"] == row["event_id"]
