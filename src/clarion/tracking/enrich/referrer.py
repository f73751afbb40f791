"""Referrer classification: search, social, email, paid, direct, internal or another site."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from clarion.tracking.enrich._text import (
    clean_host,
    clean_text,
    first_values,
    host_of,
    query_of,
    split_url,
)
from clarion.tracking.enrich.utm import click_ids, parse_utm

ReferralKind = Literal["search", "social", "email", "paid", "direct", "internal", "other"]

# Every table below is matched against the whole host, lower-cased and without "www.", so
# "facebook.com.evil.example" or "notgoogle.com" never pass for the real thing.

# Webmail: a visitor who arrives from one of these clicked a link in an email. Checked before
# search, because mail.google.com and mail.yahoo.com sit under search engines' domains.
WEBMAIL: tuple[tuple[str, str], ...] = (
    ("gmail", r"mail\.google\.com"),
    ("outlook", r"outlook\.(?:live|office|office365)\.com|outlook\.cloud\.microsoft"),
    ("yahoo_mail", r"(?:[a-z]{2}\.)?mail\.yahoo\.(?:com|co\.jp|co\.[a-z]{2}|[a-z]{2})"),
    ("aol_mail", r"mail\.aol\.com"),
    ("proton_mail", r"mail\.proton(?:mail)?\.(?:me|com|ch)"),
    ("fastmail", r"(?:app\.)?fastmail\.com"),
    ("zoho_mail", r"mail\.zoho\.(?:com|eu|in|com\.au)"),
    ("icloud_mail", r"icloud\.com"),  # web mail lives at www.icloud.com/mail
    ("yandex_mail", r"mail\.yandex\.(?:ru|com|com\.tr|kz|by)"),
    ("mail_ru", r"e\.mail\.ru"),
    ("gmx", r"(?:navigator|mail)\.gmx\.(?:net|de|com|at|ch)"),
    ("web_de", r"navigator\.web\.de"),
    ("tuta", r"app\.tuta\.com|mail\.tutanota\.com"),
    ("hey", r"app\.hey\.com"),
    ("qq_mail", r"(?:wx\.)?mail\.qq\.com"),
    ("netease_mail", r"mail\.(?:163|126)\.com"),
)

# Search engines, each with the hosts its result pages link from.
SEARCH_ENGINES: tuple[tuple[str, str], ...] = (
    # Every country domain: google.com, google.de, google.co.uk, google.com.au.
    ("google", r"google\.(?:com|cat|[a-z]{2}|com?\.[a-z]{2})"),
    ("bing", r"(?:cn\.)?bing\.com"),
    ("duckduckgo", r"(?:html\.|lite\.|start\.)?duckduckgo\.com"),
    # search.yahoo.com and its regional and redirect hosts (uk.search., r.search.); the
    # yahoo.com portal's own search box links out from the bare domain.
    ("yahoo", r"(?:[a-z]{1,2}\.)*search\.yahoo\.(?:com|co\.jp)|yahoo\.(?:com|co\.jp)"),
    ("baidu", r"(?:m\.)?baidu\.com"),
    ("yandex", r"yandex\.(?:ru|com|com\.tr|kz|by|ua|uz)|ya\.ru"),
    ("ecosia", r"ecosia\.org"),
    ("qwant", r"(?:lite\.)?qwant\.com"),
    ("brave", r"search\.brave\.com"),
    ("startpage", r"(?:eu\.|us\.)?startpage\.com"),
    ("naver", r"(?:m\.)?search\.naver\.com"),
    ("seznam", r"(?:search\.)?seznam\.cz"),
    ("sogou", r"(?:m\.)?sogou\.com"),
    ("so360", r"(?:m\.)?so\.com"),
    ("daum", r"(?:m\.)?search\.daum\.net"),
    ("ask", r"ask\.com"),
    ("aol", r"search\.aol\.com"),
    ("mojeek", r"mojeek\.com"),
    ("kagi", r"kagi\.com"),
    ("yep", r"yep\.com"),
)

# Social networks and link shorteners they own. Subdomains count (l.facebook.com is Facebook's
# outbound link shim, out.reddit.com Reddit's).
_SUB = r"(?:[a-z0-9-]+\.)*"
SOCIAL_NETWORKS: tuple[tuple[str, str], ...] = (
    ("facebook", _SUB + r"facebook\.com|fb\.me|fb\.com"),
    ("instagram", _SUB + r"instagram\.com"),
    ("x", r"t\.co|" + _SUB + r"(?:twitter|x)\.com"),
    ("linkedin", _SUB + r"linkedin\.com|lnkd\.in"),
    ("reddit", _SUB + r"reddit\.com|redd\.it"),
    ("youtube", _SUB + r"youtube\.com|youtu\.be"),
    ("tiktok", _SUB + r"tiktok\.com"),
    ("pinterest", _SUB + r"pinterest\.(?:com|co\.[a-z]{2}|com\.[a-z]{2}|[a-z]{2})|pin\.it"),
    ("threads", r"threads\.(?:net|com)"),
    ("bluesky", r"bsky\.app"),
    ("mastodon", r"mastodon\.(?:social|online)"),  # the largest instances; others read "other"
    ("hacker_news", r"news\.ycombinator\.com"),
    ("snapchat", _SUB + r"snapchat\.com"),
    ("whatsapp", _SUB + r"whatsapp\.com|wa\.me"),
    ("telegram", r"t\.me|(?:web\.)?telegram\.org"),
    ("vk", r"(?:m\.)?vk\.com"),
    ("weibo", _SUB + r"weibo\.(?:com|cn)"),
    ("quora", _SUB + r"quora\.com"),
    ("tumblr", _SUB + r"tumblr\.com"),
    ("discord", _SUB + r"discord(?:app)?\.com"),
    ("xing", r"xing\.com"),
)

# Android apps send "android-app://<package>/" as the referrer.
ANDROID_APPS: dict[str, tuple[ReferralKind, str]] = {
    "com.google.android.googlequicksearchbox": ("search", "google"),
    "com.google.android.gm": ("email", "gmail"),
    "com.microsoft.office.outlook": ("email", "outlook"),
    "com.yahoo.mobile.client.android.mail": ("email", "yahoo_mail"),
    "com.facebook.katana": ("social", "facebook"),
    "com.instagram.android": ("social", "instagram"),
    "com.twitter.android": ("social", "x"),
    "com.linkedin.android": ("social", "linkedin"),
    "com.reddit.frontpage": ("social", "reddit"),
    "com.google.android.youtube": ("social", "youtube"),
    "com.zhiliaoapp.musically": ("social", "tiktok"),
    "com.pinterest": ("social", "pinterest"),
    "com.whatsapp": ("social", "whatsapp"),
    "org.telegram.messenger": ("social", "telegram"),
}

# utm_medium values that name the channel outright. Tagging is deliberate, so it wins over
# whatever the referrer says ("paid*" covers paid, paid_search, paidsocial...).
EMAIL_MEDIUMS = frozenset({"email", "e-mail", "e_mail", "newsletter"})
PAID_MEDIUMS = frozenset({"cpc", "ppc", "cpm", "cpv", "display", "banner"})
SOCIAL_MEDIUMS = frozenset({"social", "social-paid", "social_paid", "social-network", "sm"})

# Click ids that only an ad click puts on a landing URL. fbclid is missing on purpose: Meta adds
# it to every outbound link, organic posts included.
PAID_CLICK_IDS = frozenset({"gclid", "gbraid", "wbraid", "dclid", "msclkid"})

# Second-level labels under which a country code domain registers names: example.co.uk,
# example.com.au. Without the public suffix list, "registrable" is approximated with these.
_SECOND_LEVEL = frozenset({"ac", "co", "com", "edu", "gob", "gov", "ne", "net", "or", "org"})

_UNKNOWN_APP: tuple[ReferralKind, str | None] = ("other", None)
_ALLOWED_SCHEMES = frozenset({"http", "https", ""})
_MAX_MEDIUM_CHARS = 200


def _compile(table: tuple[tuple[str, str], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, re.compile(pattern)) for name, pattern in table)


_HOST_TABLES: tuple[tuple[ReferralKind, tuple[tuple[str, re.Pattern[str]], ...]], ...] = (
    ("email", _compile(WEBMAIL)),
    ("search", _compile(SEARCH_ENGINES)),
    ("social", _compile(SOCIAL_NETWORKS)),
)


@dataclass(frozen=True, slots=True)
class Referral:
    """Where a visit came from.

    ``domain`` is the registrable-ish domain (``news.bbc.co.uk`` → ``bbc.co.uk``), the unit of
    the "referring domains" metric; ``host`` is the full host without ``www.``;
    ``engine_or_network`` names the search engine, social network or webmail when known.
    """

    kind: ReferralKind
    domain: str | None = None
    engine_or_network: str | None = None
    host: str | None = None


def registrable_domain(host: str) -> str:
    """The registrable-ish part of a cleaned host: the last two labels, or three under a
    country code's second level (``co.uk``); IP addresses and Android packages unchanged."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _medium_kind(medium: str | None) -> ReferralKind | None:
    if medium is None:
        return None
    medium = (clean_text(medium, _MAX_MEDIUM_CHARS) or "").lower()
    if medium in EMAIL_MEDIUMS:
        return "email"
    if medium in PAID_MEDIUMS or medium.startswith("paid"):
        return "paid"
    if medium in SOCIAL_MEDIUMS or medium.startswith("social"):
        return "social"
    return None


@dataclass(frozen=True, slots=True)
class _Source:
    host: str | None = None
    domain: str | None = None
    name: str | None = None
    kind: ReferralKind | None = None


def _web_host(referrer: str) -> str | None:
    parts = split_url(referrer)
    if parts is None or parts.scheme not in _ALLOWED_SCHEMES:
        return None
    if not parts.scheme and not parts.netloc:
        # "www.example.com/page": a referrer that lost its scheme.
        parts = split_url("//" + referrer.strip())
    return host_of(parts)


def _android_source(referrer: str) -> _Source | None:
    parts = split_url(referrer)
    if parts is None or parts.scheme != "android-app":
        return None
    package = clean_host(parts.netloc)
    if package is None:
        return _Source()
    kind, name = ANDROID_APPS.get(package, _UNKNOWN_APP)
    return _Source(package, package, name, kind)


def _referrer_source(referrer: str | None) -> _Source:
    """What the referrer alone says; no host when it is absent, unparseable or not a web page
    (``javascript:``, ``about:blank``, ``chrome-extension:``)."""
    if not referrer:
        return _Source()
    app = _android_source(referrer)
    if app is not None:
        return app
    host = _web_host(referrer)
    if host is None:
        return _Source()
    domain = registrable_domain(host)
    for kind, table in _HOST_TABLES:
        for name, pattern in table:
            if pattern.fullmatch(host):
                if name == "google" and _is_gmail_redirect(referrer):
                    return _Source(host, domain, "gmail", "email")
                return _Source(host, domain, name, kind)
    return _Source(host, domain)


def _is_gmail_redirect(referrer: str) -> bool:
    # Gmail on the web sends clicks through https://www.google.com/url?q=…&source=gmail.
    return first_values(query_of(referrer), 64).get("source") == "gmail"


def classify_referrer(
    referrer: str | None,
    page_url: str | None = None,
    utm_medium: str | None = None,
) -> Referral:
    """Classify a visit by its referrer, the page it landed on and its UTM medium; never raises.

    In order: a utm_medium that names a channel (email, paid, social) wins, read from the page
    URL when not given or empty; then an ad click id on the page URL (``gclid``…) means paid;
    no usable referrer is direct; the page's own host is internal; then webmail, search engines
    and social networks from the tables above; any other site is "other".
    """
    source = _referrer_source(referrer)
    if not utm_medium:
        utm_medium = parse_utm(page_url).medium
    medium_kind = _medium_kind(utm_medium)
    if medium_kind is not None:
        return Referral(medium_kind, source.domain, source.name, source.host)
    if PAID_CLICK_IDS & click_ids(page_url).keys():
        return Referral("paid", source.domain, source.name, source.host)
    if source.host is None:
        return Referral("direct")
    if page_url and source.host == host_of(split_url(page_url)):
        return Referral("internal", source.domain, None, source.host)
    return Referral(source.kind or "other", source.domain, source.name, source.host)
