"""The one outcome query: per variant, exposed contacts and their outcome events → sums.

An analytics metric dictionary is being built separately and may replace this module; until
then every experiment metric is defined here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from clarion.stores.events import EventStore

EXPOSURE = "experiment_exposure"
MetricKind = Literal["proportion", "mean"]


@dataclass(frozen=True)
class OutcomeMetric:
    """How an experiment metric is read: which events count and what is summed per contact."""

    name: str
    kind: MetricKind
    event_types: tuple[str, ...]
    human_only: bool  # machine opens and clicks (scanners, proxies) are left out


OUTCOME_METRICS: dict[str, OutcomeMetric] = {
    m.name: m
    for m in (
        OutcomeMetric("open_rate", "proportion", ("email_open",), human_only=True),
        OutcomeMetric("click_rate", "proportion", ("email_click",), human_only=True),
        OutcomeMetric("conversion_rate", "proportion", ("conversion",), human_only=True),
        OutcomeMetric("unsubscribe_rate", "proportion", ("unsubscribe",), human_only=False),
        OutcomeMetric("complaint_rate", "proportion", ("complaint",), human_only=False),
        OutcomeMetric("revenue_per_contact", "mean", ("conversion",), human_only=True),
    )
}


@dataclass(frozen=True)
class VariantOutcome:
    """One variant's sufficient statistics for one metric: contacts, Σ outcome, Σ outcome²."""

    variant: str
    n: int
    sum: float
    sum_squares: float


@dataclass(frozen=True)
class ExposureDay:
    """Contacts first exposed on one UTC day (the looks of a planned-horizon test)."""

    day: date
    contacts: int


def _exposed_cte() -> str:
    return (
        "exposed AS ("
        " SELECT contact_id, arg_min(variant, ts) AS variant, min(ts) AS first_ts"
        " FROM events"
        " WHERE workspace_id = $workspace AND type = $exposure"
        " AND json_extract_string(properties, '$.experiment') = $experiment"
        " AND contact_id IS NOT NULL AND variant IS NOT NULL AND ts <= $until"
        " GROUP BY contact_id)"
    )


def variant_outcomes(
    events: EventStore,
    workspace_id: str,
    *,
    experiment_key: str,
    campaign_id: str,
    metric: str,
    until: datetime,
) -> list[VariantOutcome]:
    """Sufficient statistics per variant: each contact's first exposure decides its variant,
    and only its events of the metric after that exposure, up to ``until``, count.

    Proportion metrics count a contact once however many events it has; mean metrics sum
    the contact's revenue. Events of other campaigns are left out; events without a
    campaign (e.g. a conversion postback) count for every experiment the contact is in.
    """
    spec = OUTCOME_METRICS[metric]
    types = ", ".join(f"'{t}'" for t in spec.event_types)  # fixed names, never user input
    value = "coalesce(sum(e.revenue), 0)" if spec.kind == "mean" else "count(e.event_id)"
    human = " AND coalesce(e.is_machine, false) = false" if spec.human_only else ""
    outcome = "value" if spec.kind == "mean" else "CASE WHEN value > 0 THEN 1 ELSE 0 END"
    query = (
        f"WITH {_exposed_cte()}, per_contact AS ("  # noqa: S608 - only fixed names are formatted
        f" SELECT x.contact_id, x.variant, {value} AS value"
        " FROM exposed x LEFT JOIN events e ON e.workspace_id = $workspace"
        f" AND e.contact_id = x.contact_id AND e.type IN ({types})"
        " AND e.ts >= x.first_ts AND e.ts <= $until"
        f" AND (e.campaign_id = $campaign OR e.campaign_id IS NULL){human}"
        " GROUP BY x.contact_id, x.variant),"
        f" outcome AS (SELECT variant, CAST({outcome} AS DOUBLE) AS y FROM per_contact)"
        " SELECT variant, count(*) AS n, sum(y) AS total, sum(y * y) AS total_squares"
        " FROM outcome GROUP BY variant ORDER BY variant"
    )
    params = {
        "workspace": workspace_id,
        "exposure": EXPOSURE,
        "experiment": experiment_key,
        "campaign": campaign_id,
        "until": until,
    }
    table = _run(events, query, params)
    return [
        VariantOutcome(str(r["variant"]), int(r["n"]), float(r["total"]), float(r["total_squares"]))
        for r in table
    ]


def exposure_days(
    events: EventStore, workspace_id: str, *, experiment_key: str, until: datetime
) -> list[ExposureDay]:
    """Contacts first exposed per UTC day, oldest first."""
    query = (
        f"WITH {_exposed_cte()}"  # noqa: S608 - only fixed names are formatted
        " SELECT CAST(timezone('UTC', first_ts) AS DATE) AS day, count(*) AS contacts"
        " FROM exposed GROUP BY day ORDER BY day"
    )
    params = {
        "workspace": workspace_id,
        "exposure": EXPOSURE,
        "experiment": experiment_key,
        "until": until,
    }
    return [ExposureDay(r["day"], int(r["contacts"])) for r in _run(events, query, params)]


def _run(events: EventStore, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    # Raw DuckDB with bound parameters (see decision 0018); Ibis 12's `sql` is avoided.
    # A cursor of its own: the send worker may be appending on the shared connection (in
    # `clarion serve`), and DuckDB refuses a second call on a busy connection.
    cursor = events.connection.con.cursor()
    try:
        table = cursor.sql(query, params=params).to_arrow_table()
    finally:
        cursor.close()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
