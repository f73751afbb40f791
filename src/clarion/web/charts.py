"""Charts as inline SVG drawn on the server: no script, no CDN, nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Final

from markupsafe import Markup

# Colour-blind-safe (Okabe-Ito), assigned to series in order.
PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
WIDTH = 480  # bar charts: narrow enough that their text stays legible on a phone
LINE_WIDTH, LINE_HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True)
class Bar:
    """One bar: a label, its value, the text printed beside it, and an optional reference mark."""

    label: str
    value: float
    text: str
    reference: float | None = None  # e.g. the planned amount the value is measured against


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return value


def line_chart(
    title: str, series: dict[str, list[tuple[date, float]]], fmt: Callable[[float], str]
) -> Markup:
    """One line per series over days, with a legend; ``fmt`` writes the axis numbers."""
    days = sorted({day for points in series.values() for day, _ in points})
    label = escape(title)
    if not days:
        return _built(f'<p class="empty">{label}: no facts yet.</p>')
    top = _nice_max(max((v for points in series.values() for _, v in points), default=0))
    plot_w, plot_h = LINE_WIDTH - LEFT - RIGHT, LINE_HEIGHT - TOP - BOTTOM
    span = max(len(days) - 1, 1)
    x_of = {day: LEFT + plot_w * i / span for i, day in enumerate(days)}

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<figcaption>{label}</figcaption><svg class="chart" viewBox="0 0 {LINE_WIDTH} '
        f'{LINE_HEIGHT}" role="img" aria-label="{label}"><title>{label}</title>'
    ]
    for tick in (0, top / 2, top):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LINE_WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{escape(fmt(tick))}</text>'
        )
    for day in (days[0], days[-1]) if len(days) > 1 else (days[0],):
        anchor = "start" if day == days[0] else "end"
        parts.append(
            f'<text class="axis" x="{x_of[day]:.1f}" y="{LINE_HEIGHT - 8}" '
            f'text-anchor="{anchor}">{day.isoformat()}</text>'
        )
    for colour, (name, points) in zip(_cycle(len(series)), sorted(series.items()), strict=True):
        coords = " ".join(f"{x_of[d]:.1f},{y(v):.1f}" for d, v in sorted(points))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if len(points) == 1:
            ((d, v),) = points
            parts.append(f'<circle cx="{x_of[d]:.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
    parts.append("</svg>")
    return _built("".join(parts)) + legend(sorted(series))


def legend(names: Sequence[str]) -> Markup:
    """The series names beside their colours."""
    items = "".join(
        f'<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
        f'<rect width="10" height="10" fill="{c}"/></svg>{escape(n)}</li>'
        for c, n in zip(_cycle(len(names)), names, strict=True)
    )
    return _built(f'<ul class="legend">{items}</ul>')


def bar_chart(title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars with their values written out; a reference shows as a thin mark."""
    label = escape(title)
    if not bars:
        return _built(f'<p class="empty">{label}: nothing to show.</p>')
    row, label_w, text_w = 28, 100, 165
    height = row * len(bars) + 8
    plot_w = WIDTH - label_w - text_w
    top = _nice_max(max(max(b.value, b.reference or 0) for b in bars))
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{label}">'
        f"<title>{label}</title>"
    ]
    for i, (colour, bar) in enumerate(zip(_cycle(len(bars)), bars, strict=True)):
        y = 4 + i * row
        width = plot_w * max(bar.value, 0) / top
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{y + 18}" text-anchor="end">'
            f"{escape(bar.label[:14])}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{width:.1f}" height="{row - 10}" '
            f'fill="{colour}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            f'<text class="value" x="{label_w + plot_w + 8}" y="{y + 18}">{escape(bar.text)}</text>'
        )
        if bar.reference is not None:
            x = label_w + plot_w * bar.reference / top
            parts.append(
                f'<line class="reference" x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + row - 2}"/>'
            )
    parts.append("</svg>")
    return _built("".join(parts))


def _built(html: str) -> Markup:
    """Mark drawn SVG as safe: every text placed in it went through ``escape`` on the way."""
    return Markup(html)  # noqa: S704 - all interpolated text is escaped where it is drawn


def _cycle(count: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(count)]
