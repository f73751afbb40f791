"""Request dependencies: the installation and the workspace a secret key authenticates."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clarion.auth import service as auth
from clarion.auth.contracts import ApiKey, KeyKind
from clarion.core.errors import Unauthorized
from clarion.instance import Instance

_bearer = HTTPBearer(auto_error=False, description="A secret API key: clarion keys create")


def get_instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


InstanceDep = Annotated[Instance, Depends(get_instance)]


def secret_key(
    instance: InstanceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The secret API key in ``Authorization: Bearer ...``; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("send a secret API key as 'Authorization: Bearer <key>'")
    return auth.authenticate(
        instance.store, credentials.credentials, KeyKind.SECRET, pepper=instance.pepper
    )


SecretKeyDep = Annotated[ApiKey, Depends(secret_key)]


class WriteKeyCache:
    """Recently verified write keys, so a busy collector does not hash and query per request.

    A revoked write key stops working within ``ttl`` seconds; secret keys are never cached.
    """

    def __init__(self, ttl: float = 5.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, ApiKey]] = {}

    def get(self, plaintext: str) -> ApiKey | None:
        entry = self._entries.get(plaintext)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, plaintext: str, key: ApiKey) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # crude but bounded: a full cache simply starts over
        self._entries[plaintext] = (time.monotonic() + self.ttl, key)


def write_key_from(
    authorization: str | None, body: Any, instance: Instance, cache: WriteKeyCache
) -> ApiKey:
    """The write key from ``Authorization: Bearer`` or, for sendBeacon, the body's write_key."""
    header = authorization or ""
    plaintext = header[7:].strip() if header[:7].lower() == "bearer " else None
    if plaintext is None and isinstance(body, dict) and isinstance(body.get("write_key"), str):
        plaintext = body["write_key"]
    if not plaintext:
        raise Unauthorized("send a write key as 'Authorization: Bearer <key>' or as write_key")
    key = cache.get(plaintext)
    if key is None:
        key = auth.authenticate(instance.store, plaintext, KeyKind.WRITE, pepper=instance.pepper)
        cache.put(plaintext, key)
    return key
