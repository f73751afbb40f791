"""Charts of a report as Vega-Lite specs, rendered offline to inline SVG by vl-convert."""

from __future__ import annotations

from typing import Any, Final

import vl_convert

from clarion.reports.contracts import Report

WIDTH: Final = 320  # narrow enough for a phone; the SVG scales down with the page
SCHEMA: Final = "https://vega.github.io/schema/vega-lite/v5.json"  # an id, never fetched


def _intervals(title: str, rows: list[dict[str, Any]], x: str, y_title: str) -> dict[str, Any]:
    """Points with 95% interval bars, one row per group."""
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": WIDTH,
        "data": {"values": rows},
        "encoding": {"y": {"field": x, "type": "nominal", "title": None, "sort": None}},
        "layer": [
            {
                "mark": {"type": "rule"},
                "encoding": {
                    "x": {"field": "low", "type": "quantitative", "title": y_title},
                    "x2": {"field": "high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True},
                "encoding": {"x": {"field": "value", "type": "quantitative"}},
            },
        ],
    }


def specs(report: Report) -> dict[str, dict[str, Any]]:
    """Each chart of the report by id, as a Vega-Lite spec with its data inline."""
    out: dict[str, dict[str, Any]] = {}
    kpis = [
        {
            "kpi": k.text,
            "value": k.actual.value / k.expected_by_now,
            "low": (k.actual.low or 0.0) / k.expected_by_now,
            "high": (k.actual.high or 0.0) / k.expected_by_now,
        }
        for k in report.kpis
        if k.actual is not None and k.actual.value is not None and k.expected_by_now
    ]
    if kpis:
        spec = _intervals("KPI result ÷ target by now (1 = on target)", kpis, "kpi", "÷ target")
        spec["layer"].append(
            {"mark": {"type": "rule", "strokeDash": [4, 4]}, "encoding": {"x": {"datum": 1}}}
        )
        out["kpis"] = spec
    for chart_id, rows in report.charts.items():
        if chart_id == "funnel":
            out[chart_id] = {
                "$schema": SCHEMA,
                "title": "Funnel: people reaching each step",
                "width": WIDTH,
                "data": {"values": rows},
                "mark": "bar",
                "encoding": {
                    "y": {"field": "step", "type": "nominal", "sort": None, "title": None},
                    "x": {"field": "reached", "type": "quantitative", "title": "people"},
                },
            }
        elif chart_id == "bounces-by-day":
            out[chart_id] = {
                "$schema": SCHEMA,
                "title": "Bounce rates by day",
                "width": WIDTH,
                "data": {"values": rows},
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": {"field": "day", "type": "ordinal", "title": None},
                    "y": {"field": "value", "type": "quantitative", "axis": {"format": "%"}},
                    "color": {"field": "metric", "type": "nominal", "title": None},
                },
            }
        elif chart_id == "budget-by-channel":
            values = [
                {"channel": r["channel"], "split": when, "daily": r[field]}
                for r in rows
                for when, field in (("at launch", "first_daily"), ("at the end", "last_daily"))
            ]
            out[chart_id] = {
                "$schema": SCHEMA,
                "title": "Daily budget by channel: at launch and after the allocator's moves",
                "width": WIDTH,
                "data": {"values": values},
                "mark": "bar",
                "encoding": {
                    "y": {"field": "channel", "type": "nominal", "title": None},
                    "yOffset": {"field": "split", "type": "nominal"},
                    "x": {"field": "daily", "type": "quantitative", "title": "per day"},
                    "color": {"field": "split", "type": "nominal", "title": None},
                },
            }
        elif rows and "group" in rows[0]:
            dimension, _, metric = chart_id.partition("-")
            title = f"{metric} by {dimension} (95% intervals)"
            out[chart_id] = _intervals(title, rows, "group", metric)
    return out


def svg(spec: dict[str, Any]) -> str:
    """One chart as a standalone SVG document (no script, no external reference)."""
    return str(vl_convert.vegalite_to_svg(vl_spec=spec))
