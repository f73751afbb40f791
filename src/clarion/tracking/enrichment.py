"""Enrichment glue: UTM, referrer, device and machine flags added to event rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from clarion.tracking.contracts import TrackedMessage
from clarion.tracking.enrich import (
    UserAgent,
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
cached_utm = lru_cache(maxsize=8192)(parse_utm)
cached_referrer = lru_cache(maxsize=8192)(classify_referrer)
# Browsers repeat their user agents too; the answer is an immutable UserAgent.
_cached_user_agent = lru_cache(maxsize=4096)(classify_user_agent)


def cached_user_agent(user_agent: str | None) -> UserAgent:
    """``classify_user_agent``, remembered for headers of real length (hostile ones are not)."""
    if user_agent is not None and len(user_agent) > MAX_USER_AGENT:
        return classify_user_agent(user_agent)
    return _cached_user_agent(user_agent)


def enrich_row(row: dict[str, Any], signals: Signals) -> dict[str, Any]:
    """Fill UTM fields from the URL, classify the referrer and the device; returns ``row``."""
    return enrich_with(row, classify_user_agent(signals.user_agent))


def enrich_with(row: dict[str, Any], agent: UserAgent) -> dict[str, Any]:
    """``enrich_row`` with the request's user agent classified once for all its events."""
    url = row.get("url")
    # Written out rather than as any(...) over the names: this runs for every posted event.
    if url and not (row.get("utm_source") or row.get("utm_medium") or row.get("utm_campaign")):
        utm = cached_utm(url)
        row["utm_source"], row["utm_medium"], row["utm_campaign"] = (
            utm.source,
            utm.medium,
            utm.campaign,
        )
        row["utm_term"], row["utm_content"] = utm.term, utm.content
    referrer, medium = row.get("referrer"), row.get("utm_medium")
    if url or referrer or medium:
        referral = cached_referrer(referrer, url, medium)
        row["referrer_kind"], row["referrer_domain"] = referral.kind, referral.domain
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
