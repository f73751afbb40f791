"""The truth the simulator knew next to what Clarion measured from the simulated events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clarion.delivery.ad_platform import UnitKey
from clarion.simulate.email_behaviour import EmailOutcomes
from clarion.simulate.population import GOOD, Population
from clarion.simulate.truth import GroundTruth
from clarion.simulate.web_behaviour import Sessions
from clarion.stats.wilson import wilson_interval
from clarion.stores.events import EventStore


@dataclass(frozen=True)
class Comparison:
    """One rate: the simulator's true value, Clarion's measurement and its 95% interval."""

    metric: str
    truth: float
    measured: float | None
    low: float | None
    high: float | None
    trials: int

    @property
    def covered(self) -> bool | None:
        """Whether the interval holds the truth (None without a measurement)."""
        if self.low is None or self.high is None:
            return None
        return self.low <= self.truth <= self.high

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**self.__dict__, "covered": self.covered}


@dataclass
class _Sums:
    sent: int = 0
    delivered: int = 0
    open_all: float = 0.0  # expected human opens, whoever the mailbox provider
    open_seen: float = 0.0  # expected opens the pixel can see (no proxy in front)
    clicks: float = 0.0


@dataclass
class Ledger:
    """What the simulator knew while it ran: expected counts, summed per variant and entry."""

    email: dict[str, _Sums] = field(default_factory=lambda: defaultdict(_Sums))
    sessions: int = 0
    purchases_expected: float = 0.0
    paid: dict[UnitKey, tuple[float, float]] = field(default_factory=dict)  # (CPA, conv/day)

    def sent(self, variant: str) -> None:
        """One message handed over."""
        self.email[variant].sent += 1

    def email_truth(self, variant: str, outcome: EmailOutcomes, people: Population) -> None:
        """Add one send's true chances (delivered messages only)."""
        delivered = outcome.bounce == GOOD
        visible = delivered & ~people.privacy_proxy[outcome.index]
        sums = self.email[variant]
        sums.delivered += int(delivered.sum())
        sums.open_all += float(outcome.truth.open[delivered].sum())
        sums.open_seen += float(outcome.truth.open[visible].sum())
        sums.clicks += float((outcome.truth.open * outcome.truth.click)[delivered].sum())

    def web_truth(self, visits: Sessions) -> None:
        """Add one batch of sessions' true conversion chances."""
        self.sessions += int(visits.index.size)
        self.purchases_expected += float(visits.conversion_chance.sum())

    def paid_truth(self, truth: GroundTruth, daily: Decimal, units: Sequence[UnitKey]) -> None:
        """Each unit's true steady-state CPA at the daily budget it ran on."""
        for unit in units:
            per_day = truth.conversions(unit, daily)
            self.paid[unit] = (float(daily) / per_day if per_day else float("inf"), per_day)

    def best_variant(self) -> tuple[str, float]:
        """The variant with the truly highest click rate and its true lift over the first one.

        The lift is relative (0.25: a quarter more clicks per delivered message than the
        first variant, the control).
        """
        rates = {
            variant: sums.clicks / sums.delivered
            for variant, sums in self.email.items()
            if sums.delivered
        }
        if not rates:
            raise ValueError("nothing was delivered: no variant can be best")
        control = next(iter(rates.values()))
        best = max(rates, key=lambda variant: rates[variant])
        return best, rates[best] / control - 1.0 if control else float("inf")

    def compare(self, events: EventStore, workspace_id: str, campaign_id: str) -> list[Comparison]:
        """Truth next to measurement, for each variant's open and click rate and the web."""
        measured = _measured(events, workspace_id, campaign_id)
        rows = []
        for variant, sums in sorted(self.email.items()):
            opens, clicks = measured["opens"].get(variant, 0), measured["clicks"].get(variant, 0)
            rows.append(
                _row(f"open rate {variant} (pixel-visible)", sums.open_seen, opens, sums.delivered)
            )
            rows.append(
                _row(
                    f"open rate {variant} (true, all mailboxes)",
                    sums.open_all,
                    opens,
                    sums.delivered,
                )
            )
            rows.append(_row(f"click rate {variant}", sums.clicks, clicks, sums.delivered))
        rows.append(
            _row(
                "session conversion rate",
                self.purchases_expected,
                measured["conversions"],
                measured["sessions"],
                expected_trials=self.sessions,
            )
        )
        return rows


@dataclass(frozen=True)
class PaidComparison:
    """One ad unit: its true steady-state CPA at its budget next to the CPA it reported."""

    channel: str
    ad_set: str
    true_cpa: float
    measured_cpa: float | None  # cost / platform-reported conversions; None without any
    cost: float
    conversions: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def compare_paid(ledger: Ledger, events: EventStore, workspace_id: str) -> list[PaidComparison]:
    """Each simulated unit's true CPA next to what its spend rows say."""
    rows = (
        events.connection.con.sql(
            "select channel, ad_set, sum(cost) as cost, sum(conversions) as conversions "
            "from ad_spend where workspace_id = $ws and source like 'simulated_%' "
            "group by channel, ad_set",
            params={"ws": workspace_id},
        )
        .to_arrow_table()
        .to_pylist()
    )
    spent = {(r["channel"], r["ad_set"]): r for r in rows}
    out = []
    for unit, (true_cpa, _) in ledger.paid.items():
        row = spent.get((unit.channel, unit.ad_set), {"cost": 0.0, "conversions": 0})
        conversions = int(row["conversions"] or 0)
        cost = float(row["cost"] or 0.0)
        out.append(
            PaidComparison(
                channel=unit.channel,
                ad_set=unit.ad_set,
                true_cpa=true_cpa,
                measured_cpa=cost / conversions if conversions else None,
                cost=cost,
                conversions=conversions,
            )
        )
    return out


def _row(
    metric: str, expected: float, successes: int, trials: int, expected_trials: int | None = None
) -> Comparison:
    base = trials if expected_trials is None else expected_trials
    truth = expected / base if base else 0.0
    interval = wilson_interval(successes, trials)
    if interval is None:
        return Comparison(metric, truth, None, None, None, trials)
    return Comparison(metric, truth, interval[0], interval[1], interval[2], trials)


def _measured(events: EventStore, workspace_id: str, campaign_id: str) -> dict[str, Any]:
    """Counts as Clarion sees them: human opens and clicks per variant, sessions, conversions.

    A session starts with a human click from a message or a view of the home page (where
    search, social and direct visits land).
    """
    con = events.connection.con
    params = {"ws": workspace_id, "cmp": campaign_id}
    by_variant = (
        con.sql(
            "select type, variant, count(distinct message_id) as n from events "
            "where workspace_id = $ws and campaign_id = $cmp "
            "and not coalesce(is_machine, false) and type in ('email_open', 'email_click') "
            "group by type, variant",
            params=params,
        )
        .to_arrow_table()
        .to_pylist()
    )
    web = (
        con.sql(
            "select count(*) filter (where type = 'page_view' and url like '%/home') as home, "
            "count(*) filter (where type = 'conversion') as conversions "
            "from events where workspace_id = $ws",
            params={"ws": workspace_id},
        )
        .to_arrow_table()
        .to_pylist()[0]
    )
    clicks = {r["variant"]: int(r["n"]) for r in by_variant if r["type"] == "email_click"}
    return {
        "opens": {r["variant"]: int(r["n"]) for r in by_variant if r["type"] == "email_open"},
        "clicks": clicks,
        "sessions": int(web["home"] or 0) + sum(clicks.values()),
        "conversions": int(web["conversions"] or 0),
    }
