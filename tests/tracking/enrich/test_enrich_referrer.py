"""Referrer classification: the inputs of "search traffic" and "referring domains"."""

import pytest

from clarion.tracking.enrich import Referral, classify_referrer, registrable_domain

PAGE = "https://www.acme.example/pricing"


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        # Search engines, on any country domain, with or without a path.
        ("https://www.google.com/", Referral("search", "google.com", "google", "google.com")),
        ("https://www.google.co.uk/", Referral("search", "google.co.uk", "google", "google.co.uk")),
        (
            "https://www.google.com.au/search?q=x",
            Referral("search", "google.com.au", "google", "google.com.au"),
        ),
        ("https://www.google.de/", Referral("search", "google.de", "google", "google.de")),
        (
            "https://www.google.com/url?sa=t&rct=j&url=https%3A%2F%2Facme.example",
            Referral("search", "google.com", "google", "google.com"),
        ),
        ("https://www.bing.com/search?q=acme", Referral("search", "bing.com", "bing", "bing.com")),
        (
            "https://duckduckgo.com/",
            Referral("search", "duckduckgo.com", "duckduckgo", "duckduckgo.com"),
        ),
        (
            "https://search.yahoo.com/search?p=acme",
            Referral("search", "yahoo.com", "yahoo", "search.yahoo.com"),
        ),
        (
            "https://uk.search.yahoo.com/",
            Referral("search", "yahoo.com", "yahoo", "uk.search.yahoo.com"),
        ),
        ("https://www.baidu.com/link?url=x", Referral("search", "baidu.com", "baidu", "baidu.com")),
        ("https://yandex.ru/", Referral("search", "yandex.ru", "yandex", "yandex.ru")),
        ("https://www.ecosia.org/", Referral("search", "ecosia.org", "ecosia", "ecosia.org")),
        ("https://www.qwant.com/", Referral("search", "qwant.com", "qwant", "qwant.com")),
        ("https://search.brave.com/", Referral("search", "brave.com", "brave", "search.brave.com")),
        (
            "https://www.startpage.com/",
            Referral("search", "startpage.com", "startpage", "startpage.com"),
        ),
        ("https://search.naver.com/", Referral("search", "naver.com", "naver", "search.naver.com")),
        (
            "https://search.seznam.cz/",
            Referral("search", "seznam.cz", "seznam", "search.seznam.cz"),
        ),
        (
            "android-app://com.google.android.googlequicksearchbox/",
            Referral(
                "search",
                "com.google.android.googlequicksearchbox",
                "google",
                "com.google.android.googlequicksearchbox",
            ),
        ),
        # Social networks, their link shims and shorteners.
        (
            "https://l.facebook.com/l.php?u=x",
            Referral("social", "facebook.com", "facebook", "l.facebook.com"),
        ),
        (
            "https://m.facebook.com/",
            Referral("social", "facebook.com", "facebook", "m.facebook.com"),
        ),
        (
            "https://l.instagram.com/",
            Referral("social", "instagram.com", "instagram", "l.instagram.com"),
        ),
        ("https://t.co/AbC123", Referral("social", "t.co", "x", "t.co")),
        ("https://x.com/acme", Referral("social", "x.com", "x", "x.com")),
        ("https://twitter.com/acme", Referral("social", "twitter.com", "x", "twitter.com")),
        (
            "https://www.linkedin.com/feed/",
            Referral("social", "linkedin.com", "linkedin", "linkedin.com"),
        ),
        ("https://lnkd.in/abc", Referral("social", "lnkd.in", "linkedin", "lnkd.in")),
        (
            "https://out.reddit.com/t3_x",
            Referral("social", "reddit.com", "reddit", "out.reddit.com"),
        ),
        ("https://www.youtube.com/", Referral("social", "youtube.com", "youtube", "youtube.com")),
        ("https://www.tiktok.com/", Referral("social", "tiktok.com", "tiktok", "tiktok.com")),
        (
            "https://www.pinterest.co.uk/",
            Referral("social", "pinterest.co.uk", "pinterest", "pinterest.co.uk"),
        ),
        (
            "https://news.ycombinator.com/item?id=1",
            Referral("social", "ycombinator.com", "hacker_news", "news.ycombinator.com"),
        ),
        (
            "android-app://com.linkedin.android/",
            Referral("social", "com.linkedin.android", "linkedin", "com.linkedin.android"),
        ),
        # Webmail: a click in an email read in the browser.
        (
            "https://mail.google.com/mail/u/0/",
            Referral("email", "google.com", "gmail", "mail.google.com"),
        ),
        ("https://outlook.live.com/", Referral("email", "live.com", "outlook", "outlook.live.com")),
        (
            "https://outlook.office.com/mail/",
            Referral("email", "office.com", "outlook", "outlook.office.com"),
        ),
        (
            "https://mail.yahoo.com/d/folders/1",
            Referral("email", "yahoo.com", "yahoo_mail", "mail.yahoo.com"),
        ),
        (
            "https://mail.proton.me/u/0/inbox",
            Referral("email", "proton.me", "proton_mail", "mail.proton.me"),
        ),
        (
            "https://app.fastmail.com/mail/",
            Referral("email", "fastmail.com", "fastmail", "app.fastmail.com"),
        ),
        # Gmail sends web clicks through google.com/url?…&source=gmail.
        (
            "https://www.google.com/url?q=https://acme.example&source=gmail&ust=1",
            Referral("email", "google.com", "gmail", "google.com"),
        ),
        (
            "android-app://com.google.android.gm/",
            Referral("email", "com.google.android.gm", "gmail", "com.google.android.gm"),
        ),
        # Any other site.
        (
            "https://blog.example.org/post",
            Referral("other", "example.org", None, "blog.example.org"),
        ),
        ("https://news.bbc.co.uk/story", Referral("other", "bbc.co.uk", None, "news.bbc.co.uk")),
        (
            "https://docs.google.com/document/d/1",
            Referral("other", "google.com", None, "docs.google.com"),
        ),
        ("android-app://com.slack/", Referral("other", "com.slack", None, "com.slack")),
        # Look-alikes are not the real thing.
        ("https://notgoogle.com/", Referral("other", "notgoogle.com", None, "notgoogle.com")),
        (
            "https://facebook.com.evil.example/",
            Referral("other", "evil.example", None, "facebook.com.evil.example"),
        ),
        (
            "https://mail.google.com.evil.example/",
            Referral("other", "evil.example", None, "mail.google.com.evil.example"),
        ),
        # Internal navigation, www or not.
        ("https://acme.example/", Referral("internal", "acme.example", None, "acme.example")),
        (
            "https://www.acme.example/blog?x=1",
            Referral("internal", "acme.example", None, "acme.example"),
        ),
        # No usable referrer: direct.
        (None, Referral("direct")),
        ("", Referral("direct")),
        ("about:blank", Referral("direct")),
        ("javascript:alert(1)", Referral("direct")),
        ("chrome-extension://abcdef/popup.html", Referral("direct")),
    ],
)
def test_classify_referrer(referrer, expected):
    assert classify_referrer(referrer, PAGE) == expected


@pytest.mark.parametrize(
    ("referrer", "page_url", "utm_medium", "kind"),
    [
        # UTM wins: tagging is deliberate.
        (None, PAGE, "email", "email"),
        (None, PAGE, "Newsletter", "email"),
        (None, PAGE, "cpc", "paid"),
        (None, PAGE, "ppc", "paid"),
        (None, PAGE, "paid_social", "paid"),
        (None, PAGE, "paidsearch", "paid"),
        (None, PAGE, "display", "paid"),
        (None, PAGE, "social", "social"),
        (None, PAGE, "social-paid", "social"),
        ("https://www.google.com/", PAGE, "cpc", "paid"),
        ("https://l.facebook.com/", PAGE, "email", "email"),
        # ...read from the page URL when not given.
        (None, f"{PAGE}?utm_source=news&utm_medium=email", None, "email"),
        ("https://www.bing.com/", f"{PAGE}?utm_medium=CPC", None, "paid"),
        # A medium that names no channel leaves the referrer to decide.
        (None, PAGE, "referral", "direct"),
        ("https://www.google.com/", PAGE, "organic", "search"),
        # An ad click id means paid; fbclid does not (Meta adds it to organic links too).
        ("https://www.google.com/", f"{PAGE}?gclid=Cj0K", None, "paid"),
        (None, f"{PAGE}?msclkid=9f8e", None, "paid"),
        ("https://l.facebook.com/", f"{PAGE}?fbclid=IwAR", None, "social"),
    ],
)
def test_utm_and_click_ids_say_which_channel(referrer, page_url, utm_medium, kind):
    assert classify_referrer(referrer, page_url, utm_medium).kind == kind


def test_paid_keeps_the_engine_for_paid_search():
    referral = classify_referrer("https://www.google.com/", PAGE, "cpc")
    assert referral == Referral("paid", "google.com", "google", "google.com")


def test_without_a_page_nothing_is_internal():
    assert classify_referrer("https://acme.example/").kind == "other"


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        # Scheme lost on the way: still a host.
        ("www.example.com/page", Referral("other", "example.com", None, "example.com")),
        # Port, user info, upper case and a trailing dot do not make another site.
        (
            "HTTPS://User:pw@WWW.Example.COM.:8443/x",
            Referral("other", "example.com", None, "example.com"),
        ),
        # IP literals are their own domain.
        ("http://[::1]:80/", Referral("other", "::1", None, "::1")),
        ("http://192.0.2.10:8080/x", Referral("other", "192.0.2.10", None, "192.0.2.10")),
        # Internationalised names are stored in punycode, whichever form arrives.
        ("http://bücher.de/", Referral("other", "xn--bcher-kva.de", None, "xn--bcher-kva.de")),
        (
            "http://xn--bcher-kva.de/",
            Referral("other", "xn--bcher-kva.de", None, "xn--bcher-kva.de"),
        ),
        # Full-width letters are what they look like.
        ("https://ｇｏｏｇｌｅ.com/", Referral("search", "google.com", "google", "google.com")),
        # Not a host at all.
        ("http://[::1/", Referral("direct")),
        ("http://exa mple.com/", Referral("direct")),
        ("http://\x00/", Referral("direct")),
        ("\x00", Referral("direct")),
        ("https://" + "a" * 300 + ".com/", Referral("direct")),
        ("a" * 100_000, Referral("direct")),
    ],
)
def test_malformed_referrers(referrer, expected):
    assert classify_referrer(referrer, PAGE) == expected


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("example.com", "example.com"),
        ("a.b.example.com", "example.com"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("shop.example.com.au", "example.com.au"),
        ("example.co.uk", "example.co.uk"),
        ("localhost", "localhost"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


def test_an_empty_medium_falls_back_to_the_page_url():
    assert classify_referrer(None, f"{PAGE}?utm_medium=email", "").kind == "email"
