"""The report as PDF: the HTML page laid out for print by WeasyPrint, offline."""

from __future__ import annotations

from clarion.reports.contracts import Report
from clarion.reports.render_html import report_html


def report_pdf(report: Report, html: str | None = None) -> bytes:
    """The PDF bytes of the report page (``html``, when already rendered); any URL in it is
    refused, not fetched."""
    import weasyprint  # noqa: PLC0415 - heavy (Pango); loaded only when a PDF is asked for

    def refuse(url: str) -> dict[str, object]:
        raise ValueError(f"the report fetches nothing: {url[:80]}")

    document = weasyprint.HTML(string=html or report_html(report), url_fetcher=refuse)
    return bytes(document.write_pdf())
