"""Deterministic assignment: a hash of experiment key and contact id picks the arm."""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from clarion.experiments.outcomes import EXPOSURE

_SCALE = float(2**64)


def bucket(salt: str, experiment_key: str, contact_id: str) -> float:
    """A uniform number in [0, 1) fixed by the three strings (SHA-256, first 64 bits)."""
    digest = hashlib.sha256(f"{salt}\x1f{experiment_key}\x1f{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def assign(experiment_key: str, contact_id: str, weights: Mapping[str, float]) -> str:
    """The arm of ``contact_id``: the same for as long as the weights stay the same.

    Arms take consecutive slices of [0, 1) in the order given, each as wide as its share
    of the total weight.
    """
    if not weights or any(w <= 0 for w in weights.values()):
        raise ValueError("assignment needs at least one arm, every weight positive")
    total = sum(weights.values())
    edges, running = [], 0.0
    for w in weights.values():
        running += w / total
        edges.append(running)
    i = bisect.bisect_right(edges, bucket("arm", experiment_key, contact_id))
    return list(weights)[min(i, len(edges) - 1)]


def in_test_share(experiment_key: str, contact_id: str, share: float) -> bool:
    """Whether a contact is in the test share of a test-then-send experiment.

    Hashed with another salt than the arm, so the test share is not skewed towards any arm.
    """
    return bucket("share", experiment_key, contact_id) < share


def exposure_rows(
    *,
    workspace_id: str,
    experiment_key: str,
    campaign_id: str,
    channel: str | None,
    assignments: Iterable[tuple[str, str]],
    at: datetime,
) -> list[dict[str, Any]]:
    """Event-store rows recording that each (contact, variant) was exposed at ``at``.

    The event id is derived from experiment, contact and instant, so a retried write of the
    same exposure is recognisable; the outcome query counts each contact once anyway.
    """
    stamp = at.isoformat()
    properties = json.dumps({"experiment": experiment_key})
    rows = []
    for contact_id, variant in assignments:
        digest = hashlib.sha256(f"{experiment_key}\x1f{contact_id}\x1f{stamp}".encode())
        rows.append(
            {
                "event_id": "exp_" + digest.hexdigest()[:32],
                "workspace_id": workspace_id,
                "type": EXPOSURE,
                "ts": at,
                "contact_id": contact_id,
                "campaign_id": campaign_id,
                "channel": channel,
                "variant": variant,
                "properties": properties,
            }
        )
    return rows
