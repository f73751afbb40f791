"""Enrichment glue: UTM, referrer, device and machine flags added to event rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from clarion.tracking.contracts import TrackedMessage
from clarion.tracking.enrich import (
    classify_referrer,
    classify_user_agent,
    is_machine_click,
    is_machine_open,
    parse_utm,
)

MAX_USER_AGENT = 512


@dataclass(frozen=True)
class Signals:
    """What the request itself tells about who is asking (never trusted, only classified)."""

    user_agent: str | None = None


# Traffic repeats itself (the same landing pages, referrers and campaigns), so the pure
# classifiers' answers are cached: this keeps enrichment to a few microseconds per event.
_parse_utm = lru_cache(maxsize=8192)(parse_utm)
_classify_referrer = lru_cache(maxsize=8192)(classify_referrer)


def enrich_row(row: dict[str, Any], signals: Signals) -> dict[str, Any]:
    """Fill UTM fields from the URL, classify the referrer and the device; returns ``row``."""
    url = row.get("url")
    if url and not any(row.get(f"utm_{p}") for p in ("source", "medium", "campaign")):
        utm = _parse_utm(url)
        row["utm_source"], row["utm_medium"], row["utm_campaign"] = (
            utm.source,
            utm.medium,
            utm.campaign,
        )
        row["utm_term"], row["utm_content"] = utm.term, utm.content
    if url or row.get("referrer") or row.get("utm_medium"):
        referral = _classify_referrer(row.get("referrer"), url, row.get("utm_medium"))
        row["referrer_kind"], row["referrer_domain"] = referral.kind, referral.domain
    agent = classify_user_agent(signals.user_agent)
    row["device"] = agent.device
    row["is_machine"] = agent.is_bot  # mail proxies fetch pixels, not pages: only bots count here
    return row


def _flags(
    device: str, machine: bool, reasons: tuple[str, ...], agent: str | None
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if reasons:
        properties["machine_reasons"] = list(reasons)
    if agent:
        properties["user_agent"] = agent[:MAX_USER_AGENT]
    return {"device": device, "is_machine": machine, "properties": properties or None}


def open_flags(message: TrackedMessage, signals: Signals, now: datetime) -> dict[str, Any]:
    """Device and machine verdict of a pixel fetch (privacy proxies and scanners flagged)."""
    agent = classify_user_agent(signals.user_agent)
    verdict = is_machine_open(opened_at=now, delivered_at=message.sent_at, user_agent=agent)
    return _flags(agent.device, verdict.machine, verdict.reasons, signals.user_agent)


def click_flags(message: TrackedMessage, signals: Signals, now: datetime) -> dict[str, Any]:
    """Device and machine verdict of a redirect (link scanners flagged)."""
    agent = classify_user_agent(signals.user_agent)
    verdict = is_machine_click(clicked_at=now, delivered_at=message.sent_at, user_agent=agent)
    return _flags(agent.device, verdict.machine, verdict.reasons, signals.user_agent)
