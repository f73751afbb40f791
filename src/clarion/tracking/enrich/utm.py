"""UTM parameters and ad click ids: read from a landing URL, appended to a click's destination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from clarion.tracking.enrich._text import clean_text, first_values, query_of

# A UTM value longer than this is a mistake or an attack; real campaign names are far shorter.
MAX_UTM_CHARS = 200
# Click ids are opaque tokens; Google's run to ~100 characters, Meta's to ~60.
MAX_CLICK_ID_CHARS = 256

UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
# Source and medium are conventionally lower-case ("google", "cpc"); campaign, term and content
# are names a person wrote and keep their case.
_LOWER_CASE_FIELDS = frozenset({"source", "medium"})

# Click ids an ad platform appends to the landing URL, by parameter name.
CLICK_ID_PARAMS = (
    "gclid",  # Google Ads
    "gbraid",  # Google Ads, iOS app-to-web
    "wbraid",  # Google Ads, iOS web-to-app
    "dclid",  # Google Display & Video 360 / Campaign Manager
    "msclkid",  # Microsoft Advertising (Bing)
    "fbclid",  # Meta: added to every outbound Facebook/Instagram link, paid or not
    "li_fat_id",  # LinkedIn Ads
    "ttclid",  # TikTok Ads
    "twclid",  # X (Twitter) Ads
)


@dataclass(frozen=True, slots=True)
class Utm:
    """The five UTM parameters of a URL; None where absent or empty."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None

    def as_params(self) -> dict[str, str]:
        """The values present, as ``utm_*`` query parameters in the canonical order."""
        params: dict[str, str] = {}
        for field in UTM_FIELDS:
            value = getattr(self, field)
            if value is not None:
                params[f"utm_{field}"] = value
        return params


def _normalise(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = clean_text(value, MAX_UTM_CHARS)
    if cleaned is not None and field in _LOWER_CASE_FIELDS:
        cleaned = cleaned.lower()
    return cleaned


def parse_utm(url: str | None) -> Utm:
    """The UTM parameters of ``url``; never raises.

    Parameter names match case-insensitively; a parameter given twice keeps its first non-empty
    value; values are percent-decoded (``+`` is a space), stripped of control characters,
    trimmed and capped at ``MAX_UTM_CHARS``; source and medium are lower-cased.
    """
    if not url:
        return Utm()
    params = first_values(query_of(url), MAX_UTM_CHARS)
    return Utm(**{field: _normalise(field, params.get(f"utm_{field}")) for field in UTM_FIELDS})


def click_ids(url: str | None) -> dict[str, str]:
    """The ad click ids of ``url`` (see ``CLICK_ID_PARAMS``), by parameter name; never raises."""
    if not url:
        return {}
    params = first_values(query_of(url), MAX_CLICK_ID_CHARS)
    return {name: params[name] for name in CLICK_ID_PARAMS if name in params}


def _param_name(key: str) -> str:
    field = key.removeprefix("utm_")
    if field not in UTM_FIELDS:
        raise ValueError(f"not a UTM parameter: {key!r} (expected one of {UTM_FIELDS})")
    return f"utm_{field}"


def append_utm(url: str, utm: Mapping[str, str] | Utm) -> str:
    """``url`` with the given UTM parameters appended, for the click redirect.

    ``utm`` maps ``source`` or ``utm_source`` (and so on) to a value. A parameter the URL
    already carries with a value is left alone, so a link the author tagged by hand keeps its
    tags; empty values are skipped. The existing query and the fragment are kept byte for byte.
    The destination itself is not validated: that is the redirect's job.
    """
    given = utm.as_params() if isinstance(utm, Utm) else utm
    wanted: dict[str, str] = {}
    for key, value in given.items():
        name = _param_name(key)
        if name in wanted:
            raise ValueError(f"UTM parameter given twice: {name}")
        cleaned = clean_text(value, MAX_UTM_CHARS)
        if cleaned is not None:
            wanted[name] = cleaned
    present = first_values(query_of(url), MAX_UTM_CHARS)
    additions = [
        (f"utm_{field}", wanted[f"utm_{field}"])
        for field in UTM_FIELDS
        if f"utm_{field}" in wanted and f"utm_{field}" not in present
    ]
    if not additions:
        return url
    base, hash_sign, fragment = url.partition("#")
    if "?" not in base:
        separator = "?"
    elif base.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    encoded = urlencode(additions, quote_via=quote)
    return f"{base}{separator}{encoded}{hash_sign}{fragment}"
