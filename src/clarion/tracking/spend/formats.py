"""Spend file layouts: the header names each accepts, and telling them apart by the header."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

LayoutName: TypeAlias = Literal["generic", "google_ads", "meta_ads"]
FormatChoice: TypeAlias = Literal["auto", "generic", "google_ads", "meta_ads"]

# The fields a spend row is made of; a layout names the header(s) each is read from.
Field: TypeAlias = Literal[
    "date",
    "date_end",
    "campaign",
    "channel",
    "ad_set",
    "audience",
    "creative",
    "impressions",
    "clicks",
    "cost",
    "currency",
    "conversions",
    "reach",
]

# "Amount spent (EUR)": Meta puts the account currency in the cost column's header.
_CURRENCY_IN_HEADER = re.compile(r"^(?P<name>.+?) \((?P<currency>[a-z]{3})\)$")


def normalise(header: str) -> str:
    """How headers are compared: case, surrounding and repeated whitespace, ``_`` ignored."""
    return " ".join(header.replace("\ufeff", "").replace("_", " ").split()).lower()


@dataclass(frozen=True)
class Layout:
    """One export layout: accepted headers per field (first listed wins) and its defaults."""

    name: LayoutName
    title: str
    headers: Mapping[Field, tuple[str, ...]]  # normalised names
    signature: frozenset[Field]  # columns a header must have to be this layout
    default_channel: str | None = None
    currency_in_cost_header: bool = False  # "Amount spent (EUR)"
    skip_summary_row: bool = False  # Meta's optional totals row right under the header

    def accepted(self, name: Field) -> tuple[str, ...]:
        return self.headers.get(name, ())


GENERIC = Layout(
    name="generic",
    title="Clarion's generic spend CSV",
    headers={
        "date": ("date",),
        "campaign": ("campaign",),
        "channel": ("channel",),
        "ad_set": ("ad set",),
        "audience": ("audience",),
        "creative": ("creative",),
        "impressions": ("impressions",),
        "clicks": ("clicks",),
        "cost": ("cost",),
        "currency": ("currency",),
        "conversions": ("conversions",),
        "reach": ("reach",),
    },
    signature=frozenset({"date", "campaign", "cost"}),
)

GOOGLE_ADS = Layout(
    name="google_ads",
    title="Google Ads report export",
    headers={
        "date": ("day",),
        "campaign": ("campaign",),
        "ad_set": ("ad group",),
        "audience": ("audience segment",),
        "creative": ("ad id",),
        "impressions": ("impr.", "impressions"),
        "clicks": ("clicks",),
        "cost": ("cost",),
        "currency": ("currency code",),
        "conversions": ("conversions", "conv."),
    },
    signature=frozenset({"date", "campaign", "cost"}),
    default_channel="search",
)

META_ADS = Layout(
    name="meta_ads",
    title="Meta Ads Manager export",
    headers={
        "date": ("day", "reporting starts"),
        "date_end": ("reporting ends",),
        "campaign": ("campaign name",),
        "ad_set": ("ad set name",),
        "audience": ("audience",),
        "creative": ("ad name",),
        "impressions": ("impressions",),
        "reach": ("reach",),
        "clicks": ("link clicks", "clicks (all)"),
        "cost": ("amount spent",),  # also "Amount spent (EUR)", currency taken from the header
        "currency": ("currency",),
        "conversions": ("results",),
    },
    signature=frozenset({"date", "campaign", "cost"}),
    default_channel="social",
    currency_in_cost_header=True,
    skip_summary_row=True,
)

LAYOUTS: Final[dict[LayoutName, Layout]] = {
    layout.name: layout for layout in (GENERIC, GOOGLE_ADS, META_ADS)
}


@dataclass(frozen=True)
class HeaderMatch:
    """Where a layout's fields sit in one header row, and what the row holds besides."""

    layout: Layout
    columns: Mapping[Field, int]  # field -> index of its cell
    names: tuple[str, ...]  # the header cells as written (stripped), for error reports
    header_currency: str | None = None  # from "Amount spent (EUR)"
    ignored: tuple[str, ...] = ()  # header cells no field reads
    duplicated: tuple[str, ...] = ()  # headers a field found twice (the first is read)

    @property
    def missing(self) -> frozenset[Field]:
        """Signature columns the row lacks (empty when the row is this layout's header)."""
        return frozenset(self.layout.signature - self.columns.keys())


def match_header(cells: Sequence[str], layout: Layout) -> HeaderMatch:
    """Map a candidate header row onto a layout; check ``missing`` to see whether it fits."""
    normalised = [normalise(cell) for cell in cells]
    columns: dict[Field, int] = {}
    header_currency: str | None = None
    duplicated: list[str] = []
    for name, accepted in layout.headers.items():
        for candidate in accepted:
            positions = [i for i, cell in enumerate(normalised) if cell == candidate]
            if not positions and name == "cost" and layout.currency_in_cost_header:
                positions, header_currency = _cost_with_currency(normalised, candidate)
            if positions:
                columns[name] = positions[0]
                if len(positions) > 1:
                    duplicated.append(cells[positions[0]].strip())
                break
    used = set(columns.values())
    ignored = tuple(cells[i].strip() for i in range(len(cells)) if i not in used and normalised[i])
    return HeaderMatch(
        layout=layout,
        columns=columns,
        names=tuple(cell.replace("\ufeff", "").strip() for cell in cells),
        header_currency=header_currency,
        ignored=ignored,
        duplicated=tuple(duplicated),
    )


def _cost_with_currency(normalised: list[str], candidate: str) -> tuple[list[int], str | None]:
    for i, cell in enumerate(normalised):
        found = _CURRENCY_IN_HEADER.match(cell)
        if found and found["name"] == candidate:
            return [i], found["currency"].upper()
    return [], None


def detect(cells: Sequence[str], choice: FormatChoice) -> HeaderMatch | None:
    """The layout whose signature this row carries (the best fit if several), or None."""
    candidates = LAYOUTS.values() if choice == "auto" else (LAYOUTS[choice],)
    fits = [m for m in (match_header(cells, layout) for layout in candidates) if not m.missing]
    if not fits:
        return None
    return max(fits, key=lambda m: len(m.columns))


def header_name(layout: Layout, name: Field) -> str:
    """How the export writes a field's (first accepted) header, for messages."""
    written = layout.accepted(name)[0] if layout.accepted(name) else name
    if name == "cost" and layout.currency_in_cost_header:
        written += " (EUR)"
    return written if layout.name == "generic" else written[:1].upper() + written[1:]


def describe_headers(layout: Layout) -> str:
    """The signature headers of a layout, for messages: ``Day, Campaign, Cost``."""
    order: tuple[Field, ...] = ("date", "campaign", "cost")
    return ", ".join(header_name(layout, f) for f in order if f in layout.signature)
