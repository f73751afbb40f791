"""The dashboard's signed session cookie: which key signed in, as which role, until when."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from clarion.audiences.pii import ROLES, Role

COOKIE: Final = "clarion_session"
LOGIN_COOKIE: Final = "clarion_login"  # the login form's CSRF token (double submit)
LIFETIME: Final = timedelta(hours=12)
MAX_COOKIE_CHARS: Final = 1024  # a real session is ~250 characters; anything longer is refused


@dataclass(frozen=True)
class Session:
    """A signed-in dashboard user: the secret key they signed in with and the role they chose."""

    key_id: str
    workspace_id: str
    role: Role
    expires: datetime
    csrf: str  # the token every form of this session carries


def session_key(signing_key: str) -> bytes:
    """The HMAC key for sessions, derived so a session can never pass for a tracking token."""
    return hmac.new(signing_key.encode(), b"clarion dashboard session v1", hashlib.sha256).digest()


def new_session(key_id: str, workspace_id: str, role: Role, now: datetime) -> Session:
    """A fresh session with its own CSRF token."""
    return Session(key_id, workspace_id, role, now + LIFETIME, secrets.token_urlsafe(24))


def encode(session: Session, key: bytes) -> str:
    """``payload.signature``, both base64url: readable by anyone, forgeable by no one."""
    payload = json.dumps(
        {
            "k": session.key_id,
            "w": session.workspace_id,
            "r": session.role,
            "e": int(session.expires.timestamp()),
            "c": session.csrf,
        },
        separators=(",", ":"),
    ).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_sign(body, key)}"


def decode(cookie: str | None, key: bytes, now: datetime) -> Session | None:
    """The session in ``cookie`` if it is intact and not expired; None for anything else."""
    if not cookie or len(cookie) > MAX_COOKIE_CHARS or cookie.count(".") != 1:
        return None
    body, signature = cookie.split(".")
    if not hmac.compare_digest(signature.encode(), _sign(body, key).encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        expires = datetime.fromtimestamp(int(data["e"]), tz=now.tzinfo)
        role = data["r"]
        session = Session(str(data["k"]), str(data["w"]), role, expires, str(data["c"]))
    except (ValueError, KeyError, TypeError):
        return None
    if role not in ROLES or session.expires <= now:
        return None
    return session


def same_token(sent: str | None, expected: str) -> bool:
    """A form's CSRF token matches, compared in constant time."""
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


def _sign(body: str, key: bytes) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
