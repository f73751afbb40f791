"""The demo's plan, as a marketer would write it: personas, segments, content, campaign, test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

CAMPAIGN: Final = "demo-spring-launch"
EXPERIMENT: Final = "demo-teaser-subjects"
CURRENCY: Final = "EUR"
PAID_DAILY: Final = Decimal("600")  # what the three paid channels may spend a day, together
SUBJECTS: Final = {
    "a": "Spring news from Clarion Ops",
    "b": "Cut incident response time in half this spring",
}
# The world's truth about the subjects (log-odds of a human open): a real, modest lift for b.
SUBJECT_LIFT: Final = {"a": 0.0, "b": 0.35}
PERSONAS: Final = (
    {
        "key": "ops-manager",
        "label": "Operations manager at a mid-size company",
        "segment": "ops-managers",
        "demographics": {"age": {"min": 30, "max": 50}, "regions": ["DE", "FR", "GB"]},
        "goals": ["Cut time spent on manual reporting"],
        "pain_points": ["Spreadsheets that disagree"],
        "channels": ["email", "search"],
        "key_messages": ["Reports that agree, in minutes"],
    },
    {
        "key": "founder",
        "label": "Founder of a young company",
        "segment": "founders",
        "demographics": {"age": {"min": 25, "max": 45}, "regions": ["US", "NL"]},
        "goals": ["Grow without hiring an ops team"],
        "pain_points": ["No time for tooling"],
        "channels": ["social", "email"],
        "key_messages": ["Runbooks your whole team can follow"],
    },
    {
        "key": "it-director",
        "label": "IT director at an enterprise",
        "segment": "it-directors",
        "demographics": {"age": {"min": 38, "max": 60}, "regions": ["DE", "GB", "US"]},
        "goals": ["Fewer outages, audited changes"],
        "pain_points": ["Tools nobody outside IT uses"],
        "channels": ["email", "search", "display"],
        "key_messages": ["Incident response with an audit trail"],
    },
)
TEMPLATE_BODY: Final = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text font-size="18px">Hello {{ contact.first_name | default("there") }},</mj-text>
        <mj-text>{{ intro }}</mj-text>
        <mj-button href="https://shop.example/product">{{ cta }}</mj-button>
        <mj-text font-size="12px">
          <a href="https://shop.example/pricing">See the plans</a>
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
TEMPLATES: Final = {
    "demo-teaser": (
        SUBJECTS["a"],
        "Runbooks your whole team can follow, and incidents closed in half the time.",
        "Book a 20-minute demo",
    ),
    "demo-nurture": (
        "Still thinking it over? Here is what teams like yours saw",
        "Teams like yours cut their incident response time in half in the first month.",
        "See the case study",
    ),
    "demo-reminder": (
        "Last weeks of the spring offer",
        "The spring offer ends soon: two months free on the Ops suite.",
        "Claim the offer",
    ),
}


@dataclass(frozen=True)
class DemoPlan:
    """Everything the demo applies, with the days and hours of its email steps."""

    start: date
    days: int

    @property
    def end(self) -> date:
        """The campaign's last day."""
        return self.start + timedelta(days=self.days - 1)

    def at(self, day: int, hour: int) -> datetime:
        """Simulated instant: ``hour`` o'clock UTC on campaign day ``day`` (0-based)."""
        return datetime.combine(self.start + timedelta(days=day), time(hour), tzinfo=UTC)

    def email_days(self) -> dict[str, int]:
        """Step key -> day it goes out: the teaser first, the nurture, then a reminder."""
        days = {"teaser": 0, "nurture": max(1, min(3, self.days - 2))}
        if self.days >= 10:
            days["reminder"] = self.days // 2
        return days

    def campaign(self) -> dict[str, Any]:
        """The campaign file (as data): objective, KPIs, budget, hypotheses, email steps."""
        paid_total = PAID_DAILY * self.days
        steps: dict[str, dict[str, Any]] = {
            "teaser": {
                "template": "demo-teaser",
                "audience": "segment:mailable",
                "experiment": EXPERIMENT,  # the subject line each person gets is its arm's
            },
            "nurture": {
                "template": "demo-nurture",
                # Clickers of the last week who have not converted since their last click.
                "audience": {"did": "email_click", "but_not": "conversion", "within_days": 7},
            },
            "reminder": {
                "template": "demo-reminder",
                # Warm but not yet convinced: opened this month, never clicked since.
                "audience": {"did": "email_open", "but_not": "email_click", "within_days": 30},
            },
        }
        email = [
            {
                "key": key,
                **steps[key],
                "scheduled_at": self.at(day, 9).isoformat(),
                "utm": {"source": "clarion", "medium": "email", "campaign": CAMPAIGN},
            }
            for key, day in self.email_days().items()
        ]
        return {
            "key": CAMPAIGN,
            "name": "Spring launch — Ops suite (simulated market)",
            "objective": (
                "Win customers for the Ops suite among operations managers, founders and IT "
                "directors at a cost per acquisition of at most 60 EUR, with email and three "
                "paid channels."
            ),
            "start_date": self.start.isoformat(),
            "end_date": self.end.isoformat(),
            "currency": CURRENCY,
            "audience": "segment:mailable",
            "budget": {
                # Email goes out from the team's own server: the budget is the paid channels'.
                "total": str(paid_total),
                "split": {
                    "email": "0",
                    "search": str(paid_total * Decimal("0.4")),
                    "social": str(paid_total * Decimal("0.35")),
                    "display": str(paid_total * Decimal("0.25")),
                },
            },
            "kpis": [
                "cpa <= 60 EUR",
                "open_rate >= 25%",
                "click_rate >= 2%",
                "unsubscribe_rate <= 1%",
                "roas >= 1",
            ],
            "hypotheses": [
                {
                    "key": "benefit-subject-opens",
                    "statement": "A benefit-led subject line gets more human opens.",
                    "metric": "open_rate",
                    "groups": [
                        {"channel": "email", "variant": "b"},
                        {"channel": "email", "variant": "a"},
                    ],
                    "expected": "higher",
                },
                {
                    "key": "search-beats-display",
                    "statement": "Search converts at least as well per click as display.",
                    "metric": "conversion_rate",
                    "groups": [{"channel": "search"}, {"channel": "display"}],
                    "expected": "higher",
                },
            ],
            "brief": {
                "message": "Cut incident response time in half with runbooks anyone can follow.",
                "call_to_action": "Book a 20-minute demo",
                "timing": "Teaser on day 1 (subject-line test), nurture for clickers, reminder.",
                "channels": ["email", "search", "social", "display"],
            },
            "personas": [dict(p) for p in PERSONAS],
            "segments": [
                {
                    "key": "mailable",
                    "name": "Everyone we may email",
                    "rule": {"consent": "marketing:email"},
                },
                {
                    "key": "ops-managers",
                    "name": "Operations managers",
                    "rule": {"field": "persona", "op": "=", "value": "ops-manager"},
                },
                {
                    "key": "founders",
                    "name": "Founders",
                    "rule": {"field": "persona", "op": "=", "value": "founder"},
                },
                {
                    "key": "it-directors",
                    "name": "IT directors",
                    "rule": {"field": "persona", "op": "=", "value": "it-director"},
                },
            ],
            "email": email,
        }

    def experiment(self) -> dict[str, Any]:
        """The subject-line A/B test on the teaser (an experiment file, as data)."""
        return {
            "key": EXPERIMENT,
            "name": "Teaser subject lines",
            "campaign": CAMPAIGN,
            "kind": "subject_line",
            "variants": [
                {
                    "key": key,
                    "description": "control" if key == "a" else "benefit-led",
                    "content": {"subject": subject},
                }
                for key, subject in SUBJECTS.items()
            ],
            "primary_metric": "open_rate",
            "guardrail_metrics": ["unsubscribe_rate"],
            "minimum_detectable_effect": 0.15,
            "baseline": 0.25,
        }

    def budget_units(self, units: list[tuple[str, str, str | None]]) -> dict[str, Any]:
        """Allocation units of the paid channels and the allocator's policy (auto-apply)."""
        per_unit = PAID_DAILY / len(units)
        return {
            "units": [
                {
                    "channel": channel,
                    "ad_set": ad_set,
                    "audience": audience,
                    "min_daily": str((per_unit * Decimal("0.2")).quantize(Decimal("0.01"))),
                    "max_daily": str((per_unit * Decimal("3")).quantize(Decimal("0.01"))),
                }
                for channel, ad_set, audience in units
            ],
            "policy": {
                "objective": "cpa",
                "target_cpa": "60",
                "mode": "auto",
                "max_step_change": 0.3,
                "min_days": 2,
            },
        }
