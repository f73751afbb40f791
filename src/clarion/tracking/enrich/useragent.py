"""User-agent classification: device, browser, OS, bots, and the proxies that fetch mail."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

Device = Literal["desktop", "mobile", "tablet", "bot", "unknown"]

# Real user agents are a few hundred characters; nothing past this changes the answer.
MAX_USER_AGENT_CHARS = 512


@dataclass(frozen=True, slots=True)
class _Fetcher:
    """A user agent that is not a person's browser, recognised by ``pattern``."""

    agent: str
    pattern: re.Pattern[str]
    is_bot: bool
    is_mail_proxy: bool
    whole: bool  # the pattern must match the whole header, not a part of it
    unless: re.Pattern[str] | None  # a header that also matches this is not this fetcher

    def matches(self, ua: str) -> bool:
        found = self.pattern.fullmatch(ua) if self.whole else self.pattern.search(ua)
        return found is not None and not (self.unless and self.unless.search(ua))


def _fetcher(
    agent: str,
    pattern: str,
    *,
    bot: bool,
    mail_proxy: bool,
    whole: bool = False,
    unless: str | None = None,
) -> _Fetcher:
    return _Fetcher(
        agent,
        re.compile(pattern, re.IGNORECASE),
        bot,
        mail_proxy,
        whole,
        re.compile(unless, re.IGNORECASE) if unless else None,
    )


# Fetchers, checked in order before any browser. ``is_mail_proxy`` means the request was made by
# a mailbox provider or a mail security gateway, not by the reader's own device: its device,
# browser and place say nothing about the reader. ``is_bot`` means no person is behind it.
FETCHERS: tuple[_Fetcher, ...] = (
    # Image proxies: they fetch the pixel when the reader opens the mail (device hidden).
    # Gmail: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com
    # GoogleImageProxy)". Yahoo's proxy also serves AOL Mail.
    _fetcher("google_image_proxy", r"GoogleImageProxy|ggpht\.com", bot=False, mail_proxy=True),
    _fetcher("yahoo_mail_proxy", r"YahooMailProxy", bot=False, mail_proxy=True),
    # Apple Mail Privacy Protection prefetches every image through Apple's relays, whether or
    # not the mail is ever read, announcing itself only as the bare "Mozilla/5.0".
    _fetcher("apple_mail_privacy", r"\s*Mozilla/5\.0\s*", bot=False, mail_proxy=True, whole=True),
    # Link scanners of mail security gateways and Microsoft's link checks: they fetch every
    # link (and often the pixel) of a message before, or instead of, the reader.
    _fetcher("bing_preview", r"BingPreview", bot=True, mail_proxy=True),
    # Office checks a link before opening the browser ("ms-office; MSOffice 16"). Outlook for
    # Windows loading images says "ms-office" too, but also "Microsoft Outlook": a real reader.
    _fetcher(
        "ms_office_link_check",
        r"Microsoft Office (?:Existence|Protocol) Discovery|\bms-office\b|\bMSOffice \d"
        r"|Microsoft Office (?:Word|Excel|PowerPoint)\b",
        bot=True,
        mail_proxy=True,
        unless=r"Microsoft Outlook",
    ),
    _fetcher("barracuda", r"Barracuda", bot=True, mail_proxy=True),
    _fetcher("mimecast", r"Mimecast", bot=True, mail_proxy=True),
    _fetcher("proofpoint", r"Proofpoint", bot=True, mail_proxy=True),
    _fetcher("zscaler", r"Zscaler", bot=True, mail_proxy=True),
    _fetcher("trend_micro", r"Trend ?Micro", bot=True, mail_proxy=True),
    _fetcher("symantec", r"Symantec|MessageLabs", bot=True, mail_proxy=True),
    _fetcher("cisco_ironport", r"IronPort", bot=True, mail_proxy=True),
    _fetcher("forcepoint", r"Forcepoint", bot=True, mail_proxy=True),
    # Headless browsers and automation: scanners that render pages, and scrapers.
    _fetcher(
        "headless_browser",
        r"HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|Lighthouse|SlimerJS",
        bot=True,
        mail_proxy=False,
    ),
    # HTTP libraries and command-line tools: nobody reads a page through these.
    _fetcher(
        "http_library",
        r"^(?:curl|Wget|HTTPie|PostmanRuntime|insomnia|axios|node-fetch|undici|got)\b"
        r"|python-requests|python-urllib|Python/\d|aiohttp|python-httpx|Go-http-client"
        r"|^Java/|Apache-HttpClient|okhttp/|libwww-perl|LWP::|Scrapy|Ruby\b|Faraday",
        bot=True,
        mail_proxy=False,
    ),
    # Link-preview fetchers of chat apps and social networks.
    _fetcher(
        "link_preview",
        r"facebookexternalhit|Facebot|Twitterbot|LinkedInBot|Slackbot|Slack-ImgProxy"
        r"|Discordbot|TelegramBot|WhatsApp/|SkypeUriPreview|Iframely|redditbot|Pinterestbot",
        bot=True,
        mail_proxy=False,
    ),
    # Crawlers that say so. "Cubot" is a phone brand, hence the look-behind.
    _fetcher(
        "crawler",
        r"(?<!cu)bot\b|crawl|spider|slurp|Mediapartners-Google|AdsBot|Google-InspectionTool"
        r"|ia_archiver|archive\.org|GPTBot|ClaudeBot|PerplexityBot|CCBot|Bytespider",
        bot=True,
        mail_proxy=False,
    ),
)

# (name, pattern) for the operating system, first match wins; order matters: Windows Phone
# claims to be Android, Android claims to be Linux, iPad and iPhone claim to be Mac OS X.
OPERATING_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("windows_phone", r"Windows Phone"),
        ("ios", r"iPhone|iPad|iPod"),
        ("android", r"Android"),
        ("windows", r"Windows NT|Windows \d|Win64|Win32"),
        ("chromeos", r"CrOS"),
        ("macos", r"Macintosh|Mac OS X"),
        ("linux", r"Linux|X11"),
    )
)

# (name, pattern) for the browser or mail client, first match wins; order matters: Edge and
# Opera claim to be Chrome, Chrome claims to be Safari.
BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("outlook", r"Microsoft Outlook|ms-outlook"),  # Outlook for Windows loading images
        ("thunderbird", r"Thunderbird/"),
        ("facebook_app", r"FBAN/|FBAV/"),
        ("instagram_app", r"Instagram \d"),
        ("edge", r"Edg(?:e|A|iOS)?/"),
        ("opera", r"OPR/|OPiOS/|Opera"),
        ("samsung_internet", r"SamsungBrowser/"),
        ("yandex_browser", r"YaBrowser/"),
        ("firefox", r"Firefox/|FxiOS/"),
        ("chrome", r"Chrome/|CriOS/|Chromium/"),
        ("safari", r"Version/[\d.]+.*Safari/"),
        ("internet_explorer", r"MSIE |Trident/"),
        # WebKit without a browser token: Apple Mail (on a pixel) or an app's web view.
        ("webview", r"AppleWebKit/"),
    )
)

_ANDROID_MOBILE = re.compile(r"Mobile")
_DESKTOP_OSES = frozenset({"windows", "chromeos", "macos", "linux"})


@dataclass(frozen=True, slots=True)
class UserAgent:
    """What a User-Agent header says about who made a request.

    ``agent`` names the recognised fetcher (``google_image_proxy``, ``mimecast``, ``crawler``…)
    when it is not a person's own browser. A mail proxy's device, browser and OS are unknown.
    """

    device: Device = "unknown"
    browser: str | None = None
    os: str | None = None
    is_bot: bool = False
    is_mail_proxy: bool = False
    agent: str | None = None


def _device(os: str | None, ua: str) -> Device:
    if os == "ios":
        return "tablet" if "iPad" in ua else "mobile"
    if os == "android":
        return "mobile" if _ANDROID_MOBILE.search(ua) else "tablet"
    if os == "windows_phone":
        return "mobile"
    if os in _DESKTOP_OSES:
        # An iPad in desktop mode says "Macintosh"; without client hints it reads as desktop.
        return "desktop"
    return "unknown"


def _first(table: tuple[tuple[str, re.Pattern[str]], ...], ua: str) -> str | None:
    return next((name for name, pattern in table if pattern.search(ua)), None)


def classify_user_agent(ua: str | None) -> UserAgent:
    """Classify a User-Agent header (first ``MAX_USER_AGENT_CHARS`` characters); never raises.

    A missing or empty header is "unknown", not a bot: many real clients send none.
    """
    if not ua:
        return UserAgent()
    return _classify(ua[:MAX_USER_AGENT_CHARS])


# Headers repeat heavily (one browser build per audience segment), and the answer for a capped
# header never changes: a small cache spares the ~20 patterns per event.
@functools.lru_cache(maxsize=4096)
def _classify(text: str) -> UserAgent:
    if not text.strip():
        return UserAgent()
    for fetcher in FETCHERS:
        if fetcher.matches(text):
            return UserAgent(
                device="bot" if fetcher.is_bot else "unknown",
                is_bot=fetcher.is_bot,
                is_mail_proxy=fetcher.is_mail_proxy,
                agent=fetcher.agent,
            )
    os = _first(OPERATING_SYSTEMS, text)
    return UserAgent(device=_device(os, text), browser=_first(BROWSERS, text), os=os)
