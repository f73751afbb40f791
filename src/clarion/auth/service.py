"""The auth facade: workspaces, API keys created once and stored hashed, key verification."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import insert, select, update

from clarion.auth.contracts import ApiKey, KeyKind, NewApiKey, Workspace
from clarion.auth.tables import api_keys, workspaces
from clarion.core.clock import Clock
from clarion.core.errors import NotFound, Unauthorized
from clarion.core.ids import IdSource
from clarion.stores.app import AppStore

DEFAULT_WORKSPACE = "default"
_KEY_PREFIX = {KeyKind.SECRET: "clr_sk_", KeyKind.WRITE: "clr_wk_"}


def _workspace(row: Any) -> Workspace:
    return Workspace(id=row.id, key=row.key, name=row.name, created_at=row.created_at)


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        workspace_id=row.workspace_id,
        kind=KeyKind(row.kind),
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def hash_key(plaintext: str, pepper: str) -> str:
    """HMAC-SHA256 of a key under the installation's pepper (keys are random, so no KDF needed)."""
    return hmac.new(pepper.encode(), plaintext.encode(), hashlib.sha256).hexdigest()


def ensure_workspace(
    store: AppStore, key: str, name: str, *, clock: Clock, ids: IdSource
) -> tuple[Workspace, bool]:
    """The workspace called ``key``, created if missing; the flag says whether it was created."""
    with store.transaction() as conn:
        row = conn.execute(select(workspaces).where(workspaces.c.key == key)).first()
        if row is not None:
            return _workspace(row), False
        workspace = Workspace(id=ids.new("ws"), key=key, name=name, created_at=clock.now())
        conn.execute(
            insert(workspaces).values(
                id=workspace.id, key=key, name=name, created_at=workspace.created_at
            )
        )
        return workspace, True


def get_workspace(store: AppStore, key: str = DEFAULT_WORKSPACE) -> Workspace:
    """The workspace called ``key``; NotFound otherwise."""
    with store.reading() as conn:
        row = conn.execute(select(workspaces).where(workspaces.c.key == key)).first()
    if row is None:
        raise NotFound("workspace", key)
    return _workspace(row)


def create_key(
    store: AppStore,
    workspace_id: str,
    kind: KeyKind,
    *,
    pepper: str,
    clock: Clock,
    ids: IdSource,
    label: str = "",
) -> NewApiKey:
    """Make a new key; only its hash is stored, the plaintext is returned once."""
    plaintext = _KEY_PREFIX[kind] + secrets.token_urlsafe(32)
    key = ApiKey(
        id=ids.new("key"),
        workspace_id=workspace_id,
        kind=kind,
        prefix=plaintext[:12],
        label=label,
        created_at=clock.now(),
        revoked_at=None,
    )
    with store.transaction() as conn:
        conn.execute(
            insert(api_keys).values(
                id=key.id,
                workspace_id=workspace_id,
                kind=kind.value,
                prefix=key.prefix,
                key_hash=hash_key(plaintext, pepper),
                label=label,
                created_at=key.created_at,
            )
        )
    return NewApiKey(key, plaintext)


def list_keys(store: AppStore, workspace_id: str) -> list[ApiKey]:
    """The workspace's keys (never their plaintext), oldest first."""
    with store.reading() as conn:
        rows = conn.execute(
            select(api_keys)
            .where(api_keys.c.workspace_id == workspace_id)
            .order_by(api_keys.c.created_at, api_keys.c.id)
        )
        return [_api_key(row) for row in rows]


def revoke_key(store: AppStore, workspace_id: str, key_id: str, *, clock: Clock) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first time."""
    with store.transaction() as conn:
        row = conn.execute(
            select(api_keys).where(api_keys.c.id == key_id, api_keys.c.workspace_id == workspace_id)
        ).first()
        if row is None:
            raise NotFound("API key", key_id)
        if row.revoked_at is None:
            conn.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=clock.now())
            )
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).one()
        return _api_key(row)


def authenticate(store: AppStore, plaintext: str, kind: KeyKind, *, pepper: str) -> ApiKey:
    """The live key of ``kind`` matching ``plaintext``; Unauthorized otherwise."""
    if not plaintext.startswith(_KEY_PREFIX[kind]) or len(plaintext) > 128:
        raise Unauthorized(f"a {kind.value} API key is required")
    with store.reading() as conn:
        row = conn.execute(
            select(api_keys).where(api_keys.c.key_hash == hash_key(plaintext, pepper))
        ).first()
    if row is None or row.kind != kind.value:
        raise Unauthorized("unknown API key")
    if row.revoked_at is not None:
        raise Unauthorized("this API key was revoked")
    return _api_key(row)
