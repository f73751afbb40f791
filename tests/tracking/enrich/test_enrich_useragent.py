"""User-agent classification on headers seen in the wild."""

import pytest

from clarion.tracking.enrich import UserAgent, classify_user_agent

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
CUBOT_PHONE = (
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.0.0"
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)
CHROME_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)
SAMSUNG_INTERNET = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
CHROMEBOOK = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
APPLE_MAIL_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
APPLE_MAIL_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
OUTLOOK_WINDOWS = (
    "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; .NET4.0C; "
    ".NET4.0E; Microsoft Outlook 16.0.4266; ms-office; MSOffice 16)"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
GOOGLE_IMAGE_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
HEADLESS_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36"
)
OFFICE_LINK_CHECK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
BING_PREVIEW = EDGE_WINDOWS + " BingPreview/1.0b"

DESKTOP, MOBILE, TABLET = "desktop", "mobile", "tablet"


def person(device, browser, os):
    return UserAgent(device=device, browser=browser, os=os)


def bot(agent, *, mail_proxy=False):
    return UserAgent(device="bot", is_bot=True, is_mail_proxy=mail_proxy, agent=agent)


def mail_proxy(agent):
    return UserAgent(device="unknown", is_mail_proxy=True, agent=agent)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # People's browsers.
        (CHROME_WINDOWS, person(DESKTOP, "chrome", "windows")),
        (EDGE_WINDOWS, person(DESKTOP, "edge", "windows")),
        (FIREFOX_MAC, person(DESKTOP, "firefox", "macos")),
        (SAFARI_MAC, person(DESKTOP, "safari", "macos")),
        (CHROMEBOOK, person(DESKTOP, "chrome", "chromeos")),
        (FIREFOX_LINUX, person(DESKTOP, "firefox", "linux")),
        (SAFARI_IPHONE, person(MOBILE, "safari", "ios")),
        (CHROME_IOS, person(MOBILE, "chrome", "ios")),
        (SAFARI_IPAD, person(TABLET, "safari", "ios")),
        (CHROME_ANDROID, person(MOBILE, "chrome", "android")),
        (SAMSUNG_INTERNET, person(MOBILE, "samsung_internet", "android")),
        (CHROME_ANDROID_TABLET, person(TABLET, "chrome", "android")),
        # "Cubot" is a phone, not a bot.
        (CUBOT_PHONE, person(MOBILE, "chrome", "android")),
        # Mail clients loading the pixel themselves.
        (APPLE_MAIL_MAC, person(DESKTOP, "webview", "macos")),
        (APPLE_MAIL_IPHONE, person(MOBILE, "webview", "ios")),
        (OUTLOOK_WINDOWS, person(DESKTOP, "outlook", "windows")),
        # Mailbox providers' image proxies: a reader opened, device unknown.
        (GOOGLE_IMAGE_PROXY, mail_proxy("google_image_proxy")),
        (YAHOO_PROXY, mail_proxy("yahoo_mail_proxy")),
        # Apple Mail Privacy Protection prefetches as the bare "Mozilla/5.0".
        ("Mozilla/5.0", mail_proxy("apple_mail_privacy")),
        # Link scanners of Microsoft and mail security gateways.
        (OFFICE_LINK_CHECK, bot("ms_office_link_check", mail_proxy=True)),
        ("Microsoft Office Existence Discovery", bot("ms_office_link_check", mail_proxy=True)),
        (BING_PREVIEW, bot("bing_preview", mail_proxy=True)),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel)", bot("barracuda", mail_proxy=True)),
        ("Mimecast URL Protect", bot("mimecast", mail_proxy=True)),
        ("Proofpoint URL Defense", bot("proofpoint", mail_proxy=True)),
        ("Mozilla/5.0 Zscaler", bot("zscaler", mail_proxy=True)),
        ("TrendMicro Web Reputation", bot("trend_micro", mail_proxy=True)),
        ("Symantec Email Security.cloud", bot("symantec", mail_proxy=True)),
        # Crawlers, previews, automation and HTTP tools.
        (GOOGLEBOT, bot("crawler")),
        (GOOGLEBOT_SMARTPHONE, bot("crawler")),
        (BINGBOT, bot("crawler")),
        ("Mozilla/5.0 (compatible; GPTBot/1.0; +https://openai.com/gptbot)", bot("crawler")),
        (
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            bot("link_preview"),
        ),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", bot("link_preview")),
        ("WhatsApp/2.23.20.0 A", bot("link_preview")),
        (HEADLESS_CHROME, bot("headless_browser")),
        ("curl/8.5.0", bot("http_library")),
        ("Wget/1.21.4", bot("http_library")),
        ("python-requests/2.31.0", bot("http_library")),
        ("Go-http-client/1.1", bot("http_library")),
        ("Java/17.0.2", bot("http_library")),
        # Nothing to go on: unknown, not a bot.
        (None, UserAgent()),
        ("", UserAgent()),
        ("   ", UserAgent()),
        ("SomethingNew/1.0", UserAgent()),
    ],
)
def test_classify_user_agent(header, expected):
    assert classify_user_agent(header) == expected


def test_only_the_first_512_characters_count():
    assert classify_user_agent(CHROME_WINDOWS + " " * 600 + "curl/8.5.0").is_bot is False
    assert classify_user_agent("x" * 600 + "curl/8.5.0") == UserAgent()
