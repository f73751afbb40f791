"""The reports facade: a campaign's report in a format, and its learnings kept in the log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final, Literal

from clarion.core.clock import Clock
from clarion.core.ids import IdSource
from clarion.reports import learning_log
from clarion.reports.build import build_report
from clarion.reports.contracts import Report
from clarion.reports.render_html import report_html
from clarion.reports.render_json import report_json
from clarion.reports.render_pdf import report_pdf
from clarion.stores.app import AppStore
from clarion.stores.events import EventStore

Format = Literal["html", "pdf", "json"]
MEDIA_TYPES: Final[dict[str, str]] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
}


def rendered(report: Report, format: Format) -> bytes:
    """The report as the bytes of one format."""
    if format == "pdf":
        return report_pdf(report)
    if format == "html":
        return report_html(report).encode()
    text = json.dumps(report_json(report), indent=2, ensure_ascii=False, sort_keys=False)
    return text.encode()


def campaign_report_html(
    store: AppStore, events: EventStore, workspace_id: str, ref: str, *, now: datetime
) -> str:
    """The report page of campaign ``ref`` as HTML, for the dashboard to serve."""
    return report_html(build_report(store, events, workspace_id, ref, now=now))


def report_and_learn(
    store: AppStore,
    events: EventStore,
    workspace_id: str,
    ref: str,
    *,
    clock: Clock,
    ids: IdSource,
) -> Report:
    """Build the report now and replace the campaign's entries in the learning log with it."""
    report = build_report(store, events, workspace_id, ref, now=clock.now())
    learning_log.record(
        store, workspace_id, report.campaign_id, report.learnings, clock=clock, ids=ids
    )
    return report
