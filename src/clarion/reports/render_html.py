"""The report as one self-contained HTML page: inline CSS and SVG charts, every text escaped."""

from __future__ import annotations

from typing import Final

from jinja2 import Environment
from markupsafe import Markup

from clarion.core.metrics import METRICS, Unit
from clarion.reports.charts import specs, svg
from clarion.reports.contracts import Interval, Report

_STYLE: Final = """
body{font:16px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:52rem;
padding:1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.2rem;margin-top:1.8rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.92rem}td,th{padding:.3rem .4rem;
text-align:left;border-bottom:1px solid #eee;vertical-align:top}
.scroll{overflow-x:auto}.muted{color:#5b6570;font-size:.9rem}
.v{font-weight:600;padding:.05rem .4rem;border-radius:.3rem;white-space:nowrap}
.met,.supported{background:#dff3e4;color:#135c2a}.missed,.refuted{background:#fbe0e0;color:#8a1c1c}
.inconclusive{background:#fff2cc;color:#6b4e00}.no_data,.not_measured{background:#eee;color:#444}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}
li{margin:.3rem 0}code{font-size:.85rem}
@media print{body{max-width:none}}
"""

_TEMPLATE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Report: {{ r.name }}</title><style>{{ style }}</style></head>
<body>
<p class="muted">Post-campaign report · generated {{ r.generated_at.isoformat() }} ·
{{ "%.0f" | format(r.elapsed * 100) }}% of the campaign elapsed</p>
<h1>{{ r.name }}</h1>
<p><strong>Objective:</strong> {{ r.objective }}</p>
<p class="muted">{{ r.campaign_key }} · {{ r.state }} · {{ r.start_date }} to {{ r.end_date }} ·
budget {{ "%.2f" | format(r.budget_total) }} {{ r.currency }}</p>

<h2>KPI targets and results</h2>
{% if r.kpis %}<div class="scroll"><table><tr><th>Target</th><th>Result (95% interval)</th>
<th>Expected by now</th><th>Verdict</th></tr>
{% for k in r.kpis %}<tr><td>{{ k.text }}</td><td>{{ shown(k.actual, k.metric) }}</td>
<td>{{ num(k.expected_by_now, k.metric) }}</td>
<td><span class="v {{ k.verdict }}">{{ k.verdict.replace("_", " ") }}</span>
<div class="muted">{{ k.reason }}</div></td></tr>{% endfor %}
</table></div>{% else %}<p class="muted">The plan sets no KPI target.</p>{% endif %}
{% if charts.kpis %}<figure>{{ charts.kpis }}</figure>{% endif %}

<h2>Hypotheses</h2>
{% for h in r.hypotheses %}<div id="hypothesis-{{ h.key }}">
<p><span class="v {{ h.verdict }}">{{ h.verdict.replace("_", " ") }}</span> {{ h.statement }}</p>
<p class="muted">{{ h.metric }}: {% for g in h.groups %}{{ group(g.group) }}
{{ shown(g.measured, h.metric) }}
{%- if not loop.last %} vs {% endif %}{% endfor %}; ratio {{ shown(h.ratio) }}
(expected {{ h.expected }}{% if h.min_ratio %}, at least {{ h.min_ratio }}×{% endif %}):
{{ h.reason }}.</p></div>
{% else %}<p class="muted">The plan pre-registered no hypothesis.</p>{% endfor %}

<h2>Findings</h2>
{% if r.findings %}<ul>{% for f in r.findings %}<li id="{{ f.id }}"><strong>{{ f.title }}</strong>
<br><span class="muted">{{ f.detail }}</span></li>{% endfor %}</ul>
{% else %}<p class="muted">No finding: the data shows nothing that stands out.</p>{% endif %}
{% for id, chart in charts.items() if id != "kpis" %}<figure>{{ chart }}</figure>{% endfor %}
{% if r.notes %}<h3>Sections without data</h3><ul class="muted">
{% for n in r.notes %}<li>{{ n.section }}: {{ n.text }}</li>{% endfor %}</ul>{% endif %}

<h2>Recommendations</h2>
{% if r.recommendations %}<ol>{% for rec in r.recommendations %}<li>{{ rec.text }}
<span class="muted">(evidence: {% for e in rec.evidence %}<a href="#{{ e }}">{{ e }}</a>
{% endfor %})</span></li>{% endfor %}</ol>
{% else %}<p class="muted">No finding calls for an action.</p>{% endif %}

<h2>Learnings for the next plan</h2>
{% if r.learnings %}<ul>{% for item in r.learnings %}<li>{{ item.text }}</li>{% endfor %}</ul>
{% else %}<p class="muted">Nothing settled enough to carry forward.</p>{% endif %}
</body></html>
"""

_ENV: Final = Environment(autoescape=True, keep_trailing_newline=True)


def _num(value: float | None, metric: str | None = None) -> str:
    """A number in its metric's unit: rates as percentages, counts whole, others to 4 digits."""
    if value is None:
        return "—"
    unit = METRICS[metric].unit if metric in METRICS else None
    if unit is Unit.RATE:
        return f"{value:.1%}"
    if unit is Unit.COUNT:
        return f"{value:,.0f}"
    if unit is Unit.MONEY:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _shown(measured: Interval | None, metric: str | None = None) -> str:
    if measured is None or measured.value is None:
        return "no data"
    value = _num(measured.value, metric)
    if measured.low is None or measured.high is None or measured.low == measured.high:
        return f"{value} (n={measured.n:,})"
    low, high = _num(measured.low, metric), _num(measured.high, metric)
    return f"{value} ({low} to {high}, n={measured.n:,})"


def _group(group: dict[str, str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in group.items())


def _inline(document: str) -> Markup:
    # vl-convert escapes the text it draws; the XML prolog is not allowed inside HTML.
    start = document.find("<svg")
    return Markup(document[start:] if start >= 0 else document)  # noqa: S704


def report_html(report: Report) -> str:
    """The page: readable on a phone, printable, needing nothing from the network."""
    charts = {chart_id: _inline(svg(spec)) for chart_id, spec in specs(report).items()}
    template = _ENV.from_string(_TEMPLATE)
    return template.render(
        r=report,
        style=Markup(_STYLE),  # noqa: S704 - a constant of this module
        charts=charts,
        shown=_shown,
        num=_num,
        group=_group,
    )
