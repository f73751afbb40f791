"""The preference and confirmation pages: self-contained HTML, no script, everything escaped."""

from __future__ import annotations

from html import escape
from typing import Final

from clarion.delivery.unsubscribe import Outcome, Preferences

PURPOSE_LABELS: Final = {
    "marketing": "Offers and promotions",
    "newsletter": "Newsletter",
    "ads_personalisation": "Personalised advertising",
    "profiling": "Profiling",
    "analytics": "Analytics",
}

_STYLE: Final = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;"
    "color:#1a1a1a;background:#fff}h1{font-size:1.4rem}fieldset{border:1px solid #767676;"
    "padding:.5rem 1rem}button{font:inherit;padding:.5rem 1rem;margin:.5rem .5rem 0 0;"
    "border:2px solid #1a1a1a;background:#fff;cursor:pointer}button.primary{background:#1a1a1a;"
    "color:#fff}label{display:block;margin:.25rem 0}:focus{outline:3px solid #005fcc}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def preference_page(prefs: Preferences, action: str) -> str:
    """The page at ``GET /u/{token}``: opt out of everything, or of single purposes."""
    who = (
        f"<p>Email preferences for <strong>{escape(prefs.masked_address)}</strong>.</p>"
        if prefs.masked_address
        else ""
    )
    target = escape(action, quote=True)
    if prefs.unsubscribed:
        status = "<p>You are unsubscribed: you will not receive marketing email from us.</p>"
    else:
        status = "<p>Choose what you no longer want to receive.</p>"
    choices = "".join(
        f'<label><input type="checkbox" name="optout" value="{escape(p, quote=True)}"> '
        f"Stop: {escape(PURPOSE_LABELS.get(p, p))}</label>"
        for p in prefs.granted
    )
    partial = (
        f'<form method="post" action="{target}"><fieldset><legend>Opt out of some emails'
        f'</legend>{choices}<input type="hidden" name="action" value="save">'
        '<button type="submit">Save my choices</button></fieldset></form>'
        if choices
        else ""
    )
    everything = (
        ""
        if prefs.unsubscribed
        else f'<form method="post" action="{target}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" class="primary">Unsubscribe from all marketing email</button>'
        "</form>"
    )
    return _page(
        "Email preferences", f"<h1>Email preferences</h1>{who}{status}{everything}{partial}"
    )


def done_page(outcome: Outcome) -> str:
    """The page answering a POST: what is in effect now (the same when repeated)."""
    if outcome.via == "one_click":
        text = "You are unsubscribed. You will not receive marketing email from us any more."
    elif outcome.withdrawn:
        names = ", ".join(PURPOSE_LABELS.get(p, p) for p in outcome.withdrawn)
        text = f"Saved. You will no longer receive: {names}."
    else:
        text = "Saved. Nothing needed to change."
    return _page("Email preferences", f"<h1>Email preferences</h1><p>{escape(text)}</p>")


NOT_FOUND_PAGE: Final = _page(
    "Link not valid", "<h1>Link not valid</h1><p>This link is not valid or has expired.</p>"
)
