"""Contact values as stored: emails, phones (E.164), countries, names, keys, attributes."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Final

import phonenumbers

from clarion.audiences.contracts import LIFECYCLE_STAGES

MAX_EMAIL: Final = 254
MAX_PHONE_INPUT: Final = 32
MAX_ATTRIBUTES: Final = 50  # per contact
MAX_ATTRIBUTE_TEXT: Final = 500
MAX_ATTRIBUTES_BYTES: Final = 8192  # the JSON of one contact's attributes
LIMITS: Final = {
    "external_id": 128,
    "first_name": 100,
    "last_name": 100,
    "address_line1": 200,
    "address_line2": 200,
    "postal_code": 20,
    "city": 100,
    "region": 100,
}

# ISO 3166-1 alpha-2, officially assigned codes (249), plus XK (Kosovo, in common use).
COUNTRIES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW XK
    """.split()  # noqa: SIM905 - 250 codes read better as a block than as a list
)
# What people and other systems write instead of the alpha-2 code.
COUNTRY_ALIASES: Final = {
    "UK": "GB",
    "EL": "GR",  # the EU's code for Greece
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "SCOTLAND": "GB",
    "WALES": "GB",
    "USA": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "DEU": "DE",
    "FRANCE": "FR",
    "FRA": "FR",
    "SPAIN": "ES",
    "ESPAÑA": "ES",
    "ESP": "ES",
    "ITALY": "IT",
    "ITALIA": "IT",
    "ITA": "IT",
    "NETHERLANDS": "NL",
    "THE NETHERLANDS": "NL",
    "NEDERLAND": "NL",
    "NLD": "NL",
    "BELGIUM": "BE",
    "BELGIQUE": "BE",
    "BELGIË": "BE",
    "AUSTRIA": "AT",
    "ÖSTERREICH": "AT",
    "AUT": "AT",
    "SWITZERLAND": "CH",
    "SCHWEIZ": "CH",
    "SUISSE": "CH",
    "CHE": "CH",
    "IRELAND": "IE",
    "IRL": "IE",
    "PORTUGAL": "PT",
    "PRT": "PT",
    "POLAND": "PL",
    "POLSKA": "PL",
    "POL": "PL",
    "SWEDEN": "SE",
    "SVERIGE": "SE",
    "SWE": "SE",
    "NORWAY": "NO",
    "NORGE": "NO",
    "NOR": "NO",
    "DENMARK": "DK",
    "DANMARK": "DK",
    "DNK": "DK",
    "FINLAND": "FI",
    "SUOMI": "FI",
    "FIN": "FI",
    "CANADA": "CA",
    "CAN": "CA",
    "AUSTRALIA": "AU",
    "AUS": "AU",
    "NEW ZEALAND": "NZ",
    "JAPAN": "JP",
    "JPN": "JP",
    "CHINA": "CN",
    "CHN": "CN",
    "INDIA": "IN",
    "IND": "IN",
    "BRAZIL": "BR",
    "BRASIL": "BR",
    "BRA": "BR",
    "MEXICO": "MX",
    "MÉXICO": "MX",
    "MEX": "MX",
    "GBR": "GB",
}
LIFECYCLE: Final = frozenset(LIFECYCLE_STAGES)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNDECODABLE = re.compile(r"[\ud800-\udfff]")
_FOLD = re.compile(r"[\t\n\r\u2028\u2029]+")
_SPACES = re.compile(r"[\s\u200b\ufeff]+")
# Local part: what mail systems accept in practice (RFC 5322 atoms and dots), letters of any
# script included; domain: labels of letters, digits and hyphens, then a top-level domain.
_EMAIL = re.compile(
    r"^(?P<local>[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*)"
    r"@(?P<domain>(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59}))$"
)
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_ATTRIBUTE_KEY = re.compile(r"[^a-z0-9]+")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./\-\u00a0]+$")


def show(value: str, limit: int = 40) -> str:
    """A value for an error message: quoted, cut short (so never a spreadsheet formula)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def text(value: str, limit: int) -> str | None:
    """Free text as stored: trimmed, inner line breaks folded, None if empty; ValueError if bad."""
    if value.isprintable() and len(value) <= limit and value[:1] != " " and value[-1:] != " ":
        return value or None  # fast path: nothing to trim, fold or refuse
    value = value.strip()
    if not value:
        return None
    if _UNDECODABLE.search(value):
        raise ValueError("is not valid UTF-8 text; save the file as UTF-8")
    if (bad := _CONTROL.search(value)) is not None:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
    value = _FOLD.sub(" ", value)
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; at most {limit} are allowed")
    return value


def field_text(value: str, name: str) -> str | None:
    """A free-text field (names, address, city, region, external id) within its length limit."""
    return text(value, LIMITS[name])


def email(value: str) -> str | None:
    """An address trimmed and lower-cased (the whole address, as mailbox providers treat it)."""
    cleaned = value.strip()
    if not cleaned:
        return None
    cleaned = cleaned.lower()
    if len(cleaned) > MAX_EMAIL:
        raise ValueError(f"is {len(cleaned)} characters long; an address has at most {MAX_EMAIL}")
    if _UNDECODABLE.search(cleaned) or _CONTROL.search(cleaned):
        raise ValueError(f"{show(value)} is not an email address (control characters)")
    found = _EMAIL.match(cleaned)
    if found is None or len(found["local"]) > 64:
        raise ValueError(f"{show(value)} is not an email address")
    return cleaned


def email_hash(normalised: str) -> str:
    """SHA-256 hex of a normalised address: what the mirror, exports and suppressions keep.

    ``tracking.intake.email_pseudonym`` is ``"eh_" + email_hash(address)[:40]`` for the same
    address, so an email-only event and its contact meet without the address being stored.
    """
    return hashlib.sha256(normalised.encode()).hexdigest()


def country(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code, from the code in any case or a common name or alias."""
    cleaned = " ".join(value.split()).upper()
    if not cleaned:
        return None
    if cleaned in COUNTRIES:
        return cleaned
    alias = COUNTRY_ALIASES.get(cleaned)
    if alias is None:
        raise ValueError(f"{show(value)} is not a country: use the ISO 3166-1 code, e.g. DE, FR")
    return alias


def phone(value: str, country_code: str | None) -> str | None:
    """A phone number in E.164 (``+4930123456``); a national number needs the country."""
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_PHONE_INPUT or not _PHONE_CHARS.match(cleaned):
        raise ValueError(f"{show(value)} is not a phone number")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]  # the international prefix most of the world dials
    if not cleaned.startswith("+") and country_code is None:
        raise ValueError(
            f"{show(value)} has no country code: write it as +<country code><number> "
            "or give the contact a country"
        )
    try:
        parsed = phonenumbers.parse(cleaned, None if cleaned.startswith("+") else country_code)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{show(value)} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        where = f" in {country_code}" if country_code and not cleaned.startswith("+") else ""
        raise ValueError(f"{show(value)} is not a valid phone number{where}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def key(value: str) -> str | None:
    """A persona key: lower-case letters, digits, ``-`` and ``_``."""
    cleaned = value.strip().lower()
    if not cleaned:
        return None
    if not _KEY.match(cleaned):
        raise ValueError(
            f"{show(value)} is not a key: use 1-64 lower-case letters, digits, - and _"
        )
    return cleaned


def lifecycle_stage(value: str) -> str | None:
    """One of the lifecycle stages (``subscriber``, ``lead``, ``mql``, ``sql``, …)."""
    cleaned = value.strip().lower()
    if not cleaned:
        return None
    if cleaned not in LIFECYCLE:
        raise ValueError(f"{show(value)} is not a stage; use one of {', '.join(LIFECYCLE_STAGES)}")
    return cleaned


def attribute_key(header: str) -> str:
    """An attribute name from a column header: ``Company Size`` → ``company_size``."""
    slug = _ATTRIBUTE_KEY.sub("_", header.replace("\ufeff", "").strip().lower()).strip("_")
    if not slug or len(slug) > 64:
        raise ValueError(f"{show(header)} cannot name an attribute (1-64 letters or digits)")
    return slug


def attribute_text(value: str) -> str | None:
    """An attribute value read from a file cell."""
    return text(value, MAX_ATTRIBUTE_TEXT)


def attributes(value: Any) -> dict[str, Any]:
    """Attributes given as a JSON object: keys as attribute names, scalar values, bounded."""
    if not isinstance(value, dict):
        raise ValueError("expected an object of attribute names to values")
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"has {len(value)} attributes; at most {MAX_ATTRIBUTES} are allowed")
    out: dict[str, Any] = {}
    for name, item in value.items():
        slug = attribute_key(str(name))
        if slug != name:
            raise ValueError(f"{show(str(name))} is not an attribute name; write {slug!r}")
        if isinstance(item, str):
            out[name] = attribute_text(item)
        elif item is None or isinstance(item, bool | int) or _finite(item):
            out[name] = item
        else:
            raise ValueError(f"{name}: expected text, a number, true/false or null")
    encoded = json.dumps(out, ensure_ascii=False, separators=(",", ":"))
    if len(encoded.encode()) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"are larger than {MAX_ATTRIBUTES_BYTES} bytes as JSON")
    return out


def _finite(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)
