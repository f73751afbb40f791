"""Preview: the size of a segment now and the first few members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from clarion.audiences.segments import SegmentPreview, preview
from clarion.core.errors import InvalidInput
from clarion.stores.events import EventStore

Loader = Callable[..., str]  # the ``load`` fixture (conftest.py)

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def workspace(load: Loader) -> str:
    return load(
        contacts=[
            {"contact_id": f"c{n:02d}", "country": "FR" if n % 2 else "ES"} for n in range(30)
        ]
    )


def test_a_preview_counts_and_samples(event_store: EventStore, workspace: str) -> None:
    rule = {"field": "country", "op": "=", "value": "FR"}

    result = preview(event_store, workspace, rule, now=NOW, sample=3)

    assert result == SegmentPreview(count=15, sample_contact_ids=("c01", "c03", "c05"))


def test_an_empty_segment_has_no_sample(event_store: EventStore, workspace: str) -> None:
    rule = {"field": "country", "op": "=", "value": "<b>DE</b>"}

    assert preview(event_store, workspace, rule, now=NOW) == SegmentPreview(0, ())


@pytest.mark.parametrize(
    ("rule", "sample", "path"),
    [
        ({"field": "country", "op": "~", "value": "FR"}, 10, "rule.op"),
        ({"field": "country", "op": "is_set"}, 101, "sample"),
    ],
)
def test_bad_input_is_refused_before_any_query(
    event_store: EventStore, workspace: str, rule: object, sample: int, path: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        preview(event_store, workspace, rule, now=NOW, sample=sample)

    assert caught.value.problems[0].path == path


def test_now_must_carry_a_time_zone(event_store: EventStore, workspace: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        preview(
            event_store, workspace, {"field": "country", "op": "is_set"}, now=datetime(2027, 1, 1)
        )
