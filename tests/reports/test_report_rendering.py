"""The report as JSON, self-contained HTML and PDF, by API and CLI; hostile text escaped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from report_world import HOSTILE, PLAN, Counts, build

from clarion.auth.contracts import Workspace
from clarion.campaigns import service as campaigns
from clarion.campaigns.plan import parse_plan
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance
from clarion.reports.build import build_report
from clarion.reports.contracts import Report
from clarion.reports.render_html import report_html
from clarion.reports.render_json import SCHEMA, report_json
from clarion.stores.events import EventStore

AFTER_THE_END = datetime(2027, 3, 12, tzinfo=UTC)


@pytest.fixture
def autumn(instance: Instance, workspace: Workspace, clock: SimulatedClock) -> Counts:
    applied = campaigns.apply_plan(
        instance.store, workspace.id, parse_plan(PLAN), clock=clock, ids=instance.ids, actor="t"
    )
    assert instance.events is not None
    counts = build(instance.events, workspace.id, applied.campaign.id)
    clock.set(AFTER_THE_END)
    return counts


@pytest.fixture
def report(instance: Instance, workspace: Workspace, autumn: Counts) -> Report:
    assert instance.events is not None
    return build_report(instance.store, instance.events, workspace.id, "autumn", now=AFTER_THE_END)


def test_the_json_has_the_documented_shape(report: Report) -> None:
    body = report_json(report)
    assert body["schema"] == SCHEMA
    assert list(body) == [
        "schema",
        "campaign",
        "generated_at",
        "elapsed",
        "kpis",
        "hypotheses",
        "findings",
        "recommendations",
        "learnings",
        "notes",
        "charts",
    ]
    json.dumps(body, allow_nan=False)  # plain JSON: no NaN, no infinity, no objects
    for kpi in body["kpis"]:
        assert kpi["verdict"] in ("met", "missed", "inconclusive", "no_data", "not_measured")
        assert kpi["actual"]["value"] is not None
    assert {h["verdict"] for h in body["hypotheses"]} == {"supported", "inconclusive", "refuted"}
    assert body["campaign"]["name"] == PLAN["name"]  # JSON keeps text as it is


def test_no_personal_data_reaches_the_report(report: Report) -> None:
    text = json.dumps(report_json(report)) + report_html(report)
    assert not re.search(r"\bc\d_\d+\b", text)  # contact ids
    assert "example.org" not in text  # clicked URLs


def test_the_html_is_self_contained_and_escapes_hostile_text(report: Report) -> None:
    page = report_html(report)
    assert "<script" not in page.lower()
    assert "<img" not in page and "<b " not in page  # tags from campaign text stay text
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; {{ 7*7 }}" in page  # no template evaluation
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched
    assert page.count("<svg") >= 3  # KPI, persona and funnel charts, inline
    assert 'name="viewport"' in page  # readable on a phone
    for rec in report.recommendations:
        for evidence in rec.evidence:
            assert f'id="{evidence}"' in page  # every citation links to its evidence
    assert HOSTILE not in page


def test_the_api_serves_each_format(client: TestClient, autumn: Counts) -> None:
    as_json = client.get("/v1/campaigns/autumn/report")
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["campaign"]["key"] == "autumn"
    page = client.get("/v1/campaigns/autumn/report", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text.lower()
    pdf = client.get("/v1/campaigns/autumn/report", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    bad = client.get("/v1/campaigns/autumn/report", params={"format": "docx"})
    assert bad.status_code in (400, 422)
    assert client.get("/v1/campaigns/winter/report").status_code == 404
    hostile = client.get("/v1/campaigns/%3Cscript%3Ealert(1)%3C%2Fscript%3E/report")
    assert hostile.status_code == 404 and "<script>" not in hostile.headers["content-type"]
    assert hostile.headers["content-type"].startswith("application/json")


def test_the_cli_writes_each_format_and_keeps_learnings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "CLARION_DATA_DIR": str(data), "COLUMNS": "200"}

    def clarion(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clarion", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    initialised = clarion("init")
    assert initialised.returncode == 0, initialised.stderr
    workspace_id = initialised.stdout.split("Workspace", 1)[1].split("(")[1].split(")")[0]
    plan = tmp_path / "autumn.json"
    plan.write_text(json.dumps(PLAN))
    assert clarion("campaign", "apply", str(plan)).returncode == 0
    shown = json.loads(clarion("campaign", "show", "autumn", "--json").stdout)
    with EventStore.open(f"duckdb://{data / 'events.duckdb'}") as events:
        build(events, workspace_id, shown["id"])
    for fmt in ("json", "html", "pdf"):
        out = tmp_path / f"report.{fmt}"
        done = clarion("report", "autumn", "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 1000
    assert json.loads((tmp_path / "report.json").read_text())["schema"] == SCHEMA
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF-")
    refused = clarion("report", "autumn", "--format", "docx")
    assert refused.returncode != 0 and "docx" in refused.stderr
    assert "Traceback" not in refused.stderr
