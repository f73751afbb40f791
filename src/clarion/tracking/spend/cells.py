"""Cell values of a spend file: days, counts, amounts and text, each checked or refused."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Final

from clarion.core.money import CURRENCY_DIGITS

MAX_TEXT: Final = 200  # characters in a campaign, ad set, audience or creative name
MAX_COUNT: Final = 10**15  # impressions, clicks...: far above any day, far below int64
MAX_COST: Final = Decimal(10) ** 12  # one row's spend
FIRST_DAY: Final = date(2000, 1, 1)
EMPTY: Final = frozenset({"", "--", "-", "n/a"})  # how exports write "nothing" (Google: "--")

# Line breaks and tabs inside a quoted cell become one space; other controls are refused,
# as are lone surrogates (undecodable bytes, see reader.py) and bidi overrides, which make a
# name display differently from what it is.
_FOLD = re.compile(r"[\t\n\r\x85\u2028\u2029]+")
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
_UNDECODABLE = re.compile(r"[\ud800-\udfff]")
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# Digits with optional grouping (1,234,567 or 1.234.567) and an optional fraction.
_DECIMAL_POINT = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$|^\.[0-9]+$")
_DECIMAL_COMMA = re.compile(r"^(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]+)?$|^,[0-9]+$")
_PLAIN_AMOUNT = re.compile(r"^[0-9]{1,12}(?:\.(?P<fraction>[0-9]+))?$")
_SPACES = re.compile(r"[ \u00a0\u202f]")  # grouping spaces, incl. (narrow) no-break ones

_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_DAY_FORMATS: Final = (
    (re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$", re.ASCII), "numeric"),
    (re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$", re.ASCII), "numeric"),
    (re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$", re.ASCII), "numeric"),
    (re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$", re.ASCII), "numeric"),
    (re.compile(_WEEKDAY + r"(?P<m>[a-z]{3,9})\.? (?P<d>\d{1,2}),? (?P<y>\d{4})$", re.A), "named"),
    (re.compile(_WEEKDAY + r"(?P<d>\d{1,2}) (?P<m>[a-z]{3,9})\.?,? (?P<y>\d{4})$", re.A), "named"),
)
_SLASHED = re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$", re.ASCII)


def show(value: str, limit: int = 40) -> str:
    """A cell value for an error message: quoted, cut short, never a spreadsheet formula."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def text(value: str, *, limit: int = MAX_TEXT) -> str | None:
    """A name as stored: trimmed, inner line breaks folded; None if empty; ValueError if bad."""
    # Fast path: no control, format or surrogate character is printable, and no space to trim.
    if value.isprintable() and len(value) <= limit and value[:1] != " " and value[-1:] != " ":
        return value or None
    value = value.strip()
    if not value:
        return None
    if _UNDECODABLE.search(value):
        raise ValueError("is not valid UTF-8 text; save the file as UTF-8")
    if (bad := _REFUSED.search(value)) is not None:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
    value = _FOLD.sub(" ", value)
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; at most {limit} are allowed")
    return value


def channel(value: str) -> str:
    """A channel slug (``search``, ``social``...), lower-cased."""
    slug = value.strip().lower()
    if not _CHANNEL.match(slug):
        raise ValueError(
            f"{show(value)} is not a channel name: use lower-case letters, digits, - and _ "
            "(e.g. search, social, display)"
        )
    return slug


def currency(value: str) -> str:
    """A known ISO 4217 code, upper-cased."""
    if value in CURRENCY_DIGITS:
        return value
    code = value.strip().upper()
    if code not in CURRENCY_DIGITS:
        raise ValueError(f"{show(value)} is not a currency Clarion knows (e.g. EUR, USD)")
    return code


def day(value: str, *, latest: date) -> date:
    """A reporting day: ISO, ``2027/03/01``, ``20270301``, ``01.03.2027``, ``Mar 1, 2027``..."""
    cleaned = " ".join(value.split()).lower()
    for pattern, kind in _DAY_FORMATS:
        found = pattern.match(cleaned)
        if found is None:
            continue
        month = int(found["m"]) if kind == "numeric" else _MONTHS.get(found["m"], 0)
        try:
            parsed = date(int(found["y"]), month, int(found["d"]))
        except ValueError:
            raise ValueError(f"{show(value)} is not a real day") from None
        if parsed > latest:
            raise ValueError(f"{parsed} is in the future (the latest day accepted is {latest})")
        if parsed < FIRST_DAY:
            raise ValueError(f"{parsed} is before {FIRST_DAY}")
        return parsed
    if _SLASHED.match(cleaned):
        raise ValueError(f"{show(value)} is ambiguous (day/month or month/day?): use YYYY-MM-DD")
    raise ValueError(f"{show(value)} is not a day; use YYYY-MM-DD")


def latest_day(today: date) -> date:
    """The last day a row may report: tomorrow, as accounts east of UTC are a day ahead."""
    return today + timedelta(days=1)


def number(value: str, decimal_mark: str) -> Decimal:
    """A non-negative decimal number with optional digit grouping; ValueError otherwise."""
    grouping = "." if decimal_mark == "," else ","
    cleaned = _SPACES.sub("", value.strip())
    if cleaned.startswith("-"):
        raise ValueError(f"{show(value)} is negative; it must be 0 or more")
    if not (_DECIMAL_COMMA if decimal_mark == "," else _DECIMAL_POINT).match(cleaned):
        hint = " (in a ;-separated file the decimal mark is ',')" if decimal_mark == "," else ""
        raise ValueError(f"{show(value)} is not a number{hint}")
    plain = cleaned.replace(grouping, "").replace(decimal_mark, ".")
    try:
        return Decimal(plain)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"{show(value)} is not a number") from None


def count(value: str, decimal_mark: str) -> int:
    """A whole, non-negative number (impressions, clicks, reach)."""
    if len(value) < 16 and value.isascii() and value.isdigit():  # fast path: below MAX_COUNT
        return int(value)
    parsed = number(value, decimal_mark)
    if parsed != parsed.to_integral_value():
        raise ValueError(f"{show(value)} is not a whole number")
    if parsed > MAX_COUNT:
        raise ValueError(f"{show(value)} is implausibly large")
    return int(parsed)


def rounded_count(value: str, decimal_mark: str) -> int:
    """A non-negative count that may be fractional (attributed conversions), rounded."""
    if len(value) < 16 and value.isascii() and value.isdigit():  # fast path: below MAX_COUNT
        return int(value)
    parsed = number(value, decimal_mark)
    if parsed > MAX_COUNT:
        raise ValueError(f"{show(value)} is implausibly large")
    return int(parsed.to_integral_value(rounding=ROUND_HALF_EVEN))


def amount(value: str, decimal_mark: str, currency_code: str | None) -> Decimal:
    """Spend: non-negative, with at most the currency's minor digits (2 for EUR, 0 for JPY)."""
    if decimal_mark == "." and (plain := _PLAIN_AMOUNT.match(value)) is not None:
        fraction = plain["fraction"]
        if (
            fraction is None
            or currency_code is None
            or len(fraction) <= CURRENCY_DIGITS[currency_code]
        ):
            return Decimal(value)  # fast path: below MAX_COST, digits within the currency's
    parsed = number(value, decimal_mark)
    if parsed > MAX_COST:
        raise ValueError(f"{show(value)} is implausibly large for one row")
    if currency_code is not None:
        digits = CURRENCY_DIGITS[currency_code]
        exact = parsed.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
        if exact != parsed:
            raise ValueError(f"{show(value)} has more than {digits} decimals for {currency_code}")
        parsed = exact
    return parsed
