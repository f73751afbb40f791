"""A campaign, an experiment on it, and synthetic outcome events: what the tests build on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from clarion.campaigns import service as campaigns
from clarion.campaigns.files import load_plan_file
from clarion.experiments import service
from clarion.experiments.design import read_design
from clarion.instance import Instance

from shared_paths import EXAMPLES

CAMPAIGN = "spring-launch-2027"


def campaign(instance: Instance, workspace_id: str) -> str:
    plan = load_plan_file(EXAMPLES / "spring-launch.yaml")
    result = campaigns.apply_plan(
        instance.store, workspace_id, plan, clock=instance.clock, ids=instance.ids, actor="test"
    )
    return result.campaign.id


def design(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "key": "subject-test",
        "name": "Subject line test",
        "campaign": CAMPAIGN,
        "kind": "subject_line",
        "variants": [
            {"key": "a", "content": {"subject": "Spring is here"}},
            {"key": "b", "content": {"subject": "Your spring plan, ready"}},
        ],
        "primary_metric": "click_rate",
    }
    base.update(overrides)
    return base


def running(instance: Instance, workspace_id: str, **overrides: Any) -> str:
    """Create and start an experiment; returns its key."""
    campaign(instance, workspace_id)
    d = read_design(design(**overrides))
    service.create_experiment(
        instance.store, workspace_id, d, clock=instance.clock, ids=instance.ids, actor="test"
    )
    service.start(instance.store, workspace_id, d.key, clock=instance.clock, actor="test")
    return d.key


def outcome_rows(
    workspace_id: str,
    campaign_id: str,
    assigned: dict[str, str],
    rates: dict[str, float],
    *,
    event_type: str,
    at: Any,
    seed: int = 1,
    is_machine: bool = False,
    revenue: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One event per contact that 'converts', with each variant's probability."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (contact, variant) in enumerate(sorted(assigned.items())):
        if rng.random() < rates[variant]:
            rows.append(
                {
                    "event_id": f"{event_type}-{seed}-{i}",
                    "workspace_id": workspace_id,
                    "type": event_type,
                    "ts": at,
                    "contact_id": contact,
                    "campaign_id": campaign_id,
                    "is_machine": is_machine,
                    "revenue": (revenue or {}).get(variant),
                }
            )
    return rows


def expose_and_click(
    instance: Instance,
    workspace_id: str,
    key: str,
    rates: dict[str, float],
    *,
    contacts: int = 2000,
    event_type: str = "email_click",
    prefix: str = "c",
    seed: int = 1,
) -> dict[str, str]:
    """Expose ``contacts`` contacts now, record their outcomes an hour later, and let the
    clock run on past those outcomes (results only see what happened before "now").
    """
    events = instance.open_events()
    ids = [f"{prefix}{i:05d}" for i in range(contacts)]
    assigned = service.expose(instance.store, events, workspace_id, key, ids, clock=instance.clock)
    experiment = service.get_experiment(instance.store, workspace_id, key)
    at = instance.clock.now() + timedelta(hours=1)
    rows = outcome_rows(
        workspace_id,
        experiment.campaign_id,
        assigned,
        rates,
        event_type=event_type,
        at=at,
        seed=seed,
    )
    events.append("events", rows)
    instance.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    return assigned
