"""Simulated platforms' reports into ``ad_spend``, stamped as the spend importer stamps them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa

from clarion.core.clock import Clock
from clarion.core.errors import FieldProblem, InvalidInput
from clarion.delivery.ad_platform import UnitReport
from clarion.stores.events import TABLES, EventStore
from clarion.tracking.spend.current import next_import_stamp

_SCHEMA: Final = TABLES["ad_spend"].arrow_schema


def record_reports(
    events: EventStore,
    reports: Sequence[UnitReport],
    *,
    workspace_id: str,
    source: str,
    clock: Clock,
    campaign_id: str | None = None,
) -> int:
    """Append ``reports`` as one spend import stamped like the importer's; returns rows written.

    ``source`` is the platform's name (``simulated_search``). Reporting a day again
    replaces it for ``current_spend``, exactly as re-importing a file does.
    """
    if not source.startswith("simulated_"):
        raise InvalidInput(
            f"source {source!r} must start with 'simulated_'",
            [FieldProblem("source", "simulated spend is marked as such")],
        )
    if not reports:
        return 0
    stamp = next_import_stamp(events, workspace_id, clock)
    columns = {
        "workspace_id": [workspace_id] * len(reports),
        "day": [r.day for r in reports],
        "campaign_id": [campaign_id] * len(reports),
        "channel": [r.unit.channel for r in reports],
        "ad_set": [r.unit.ad_set for r in reports],
        "audience": [r.unit.audience for r in reports],
        "creative_id": [r.creative_id for r in reports],
        "impressions": [r.impressions for r in reports],
        "reach": [r.reach for r in reports],
        "clicks": [r.clicks for r in reports],
        "cost": [float(r.cost) for r in reports],  # the store's money: float64, whole cents
        "currency": [r.currency for r in reports],
        "conversions": [r.conversions for r in reports],
        "imported_at": [stamp] * len(reports),
        "source": [source] * len(reports),
    }
    table = pa.table(
        {name: pa.array(values, type=_SCHEMA.field(name).type) for name, values in columns.items()}
    )
    events.append("ad_spend", table)
    return len(reports)
